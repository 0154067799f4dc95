import { z } from 'zod';
import { DecimalString, Id, IsoTime, Side, Slug, Timeframe, TradingSymbol } from './common.ts';
import { OrderStatus } from './order.ts';

/**
 * The bus carries wake-up calls, not state: every payload names rows by id (plus a small summary for the
 * live view); the receiver reads the truth from Postgres. A lost message only delays work (reconcile
 * sweeps it up); a repeated one is harmless (handlers are idempotent, Nats-Msg-Id de-duplicates).
 */
export const EVENT_PAYLOADS = {
  'bars.fetched': z.object({
    exchange: Slug,
    timeframe: Timeframe,
    symbols: z.array(TradingSymbol).min(1),
    count: z.number().int().nonnegative(),
    /** Time of the newest bar written. */
    latest: IsoTime.nullable(),
  }),
  'signals.created': z.object({
    signalIds: z.array(Id).min(1),
  }),
  'orders.updated': z.object({
    orders: z
      .array(
        z.object({
          id: Id,
          clientOrderId: z.string(),
          strategy: Slug,
          symbol: TradingSymbol,
          side: Side,
          status: OrderStatus,
          filledQty: DecimalString,
        }),
      )
      .min(1),
  }),
  'trades.recorded': z.object({
    trades: z
      .array(
        z.object({
          id: Id,
          strategy: Slug,
          symbol: TradingSymbol,
          side: Side,
          qty: DecimalString,
          price: DecimalString,
          realizedPnl: DecimalString,
        }),
      )
      .min(1),
  }),
  'risk.halted': z.object({ scope: z.string(), reason: z.string(), until: IsoTime.nullable() }),
  'risk.resumed': z.object({ scope: z.string() }),
  'positions.drift': z.object({
    exchange: Slug,
    symbol: TradingSymbol,
    expected: DecimalString,
    actual: DecimalString,
  }),
  'strategies.changed': z.object({ name: Slug, change: z.string() }),
  /**
   * Books whose resting exits may need placing or moving (a new bar of a strategy with exits and an open
   * position, a trade of such a strategy): protect-positions' wake-up call.
   */
  'protection.due': z.object({
    books: z
      .array(z.object({ strategy: Slug, symbol: TradingSymbol }))
      .min(1)
      .max(500),
  }),
  /** A sweep's progress names its latest finished backtest and the sweep; done/total count its runs. */
  'backtests.progress': z.object({
    backtestId: Id,
    done: z.number().int(),
    total: z.number().int(),
    sweepId: Id.optional(),
  }),
  'backtests.completed': z.object({
    backtestId: Id,
    status: z.enum(['completed', 'failed']),
    sweepId: Id.optional(),
  }),
  'functions.failed': z.object({ functionName: z.string(), runId: Id.nullable(), error: z.string() }),
} as const;

export type EventType = keyof typeof EVENT_PAYLOADS;
export const EVENT_TYPES = Object.keys(EVENT_PAYLOADS) as EventType[];
export const EventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_PAYLOADS)[T]>;

export interface EventEnvelope<T extends EventType = EventType> {
  /** Unique per logical event; deterministic where the event is (so a re-publish is de-duplicated). */
  id: string;
  type: T;
  occurredAt: string;
  /** Follows one chain of work (bar → signal → order → trade) across functions and logs. */
  correlationId: string;
  payload: EventPayload<T>;
}

const envelopeBase = z.object({
  id: z.string().min(1).max(200),
  type: EventTypeSchema,
  occurredAt: IsoTime,
  correlationId: z.string().min(1).max(200),
  payload: z.unknown(),
});

/** Validates any envelope, including its payload against the schema its type names. */
export const EventEnvelopeSchema = envelopeBase.superRefine((e, ctx) => {
  const parsed = EVENT_PAYLOADS[e.type].safeParse(e.payload);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', path: ['payload', ...issue.path], message: issue.message });
    }
  }
}) as unknown as z.ZodType<EventEnvelope>;

/** Schema of the envelope of one event type. */
export function envelopeOf<T extends EventType>(type: T) {
  return envelopeBase.extend({ type: z.literal(type), payload: EVENT_PAYLOADS[type] });
}
