import { z } from 'zod';
import { Id, IsoTime } from './common.ts';

export const RunOutcome = z.enum(['running', 'ok', 'rejected', 'error']);
export type RunOutcome = z.infer<typeof RunOutcome>;

/** One invocation of a function: what ran, when, and how it ended. */
export const FunctionRun = z.object({
  id: Id,
  functionName: z.string(),
  correlationId: z.string().nullable(),
  trigger: z.string().nullable(),
  startedAt: IsoTime,
  finishedAt: IsoTime.nullable(),
  outcome: RunOutcome,
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type FunctionRun = z.infer<typeof FunctionRun>;

export const TradingHalt = z.object({
  id: Id,
  scope: z.string(),
  reason: z.string(),
  createdAt: IsoTime,
  until: IsoTime.nullable(),
  clearedAt: IsoTime.nullable(),
});
export type TradingHalt = z.infer<typeof TradingHalt>;
