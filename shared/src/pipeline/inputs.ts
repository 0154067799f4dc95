/**
 * Inputs of the pipeline functions: an HTTP JSON body, or the payload of the event a connector
 * delivered (so each schema also accepts the fields of its trigger event). Strict: an unknown field is a
 * 400 naming it, never silently ignored.
 */
import { z } from 'zod';
import {
  EVENT_PAYLOADS,
  Id,
  IsoTime,
  ManualOrderInput,
  Slug,
  TradingSymbol as SymbolSchema,
  Timeframe,
} from '../schemas/index.ts';

export { ManualOrderInput };

const symbols = z.array(SymbolSchema).min(1).max(200);
const strategies = z.array(Slug).min(1).max(100);

export const FetchBarsInput = z.strictObject({
  /** Only strategies on this exchange (and, for `symbols` no strategy trades, the exchange to ask). */
  exchange: Slug.optional(),
  timeframe: Timeframe.optional(),
  /** Only these symbols; ones no enabled strategy trades are fetched too (and must exist at the exchange). */
  symbols: symbols.optional(),
  strategies: strategies.optional(),
});
export type FetchBarsInput = z.infer<typeof FetchBarsInput>;

/** Also the `bars.fetched` payload: exchange, timeframe, symbols, count, latest. */
export const GenerateSignalsInput = z.strictObject({
  strategies: strategies.optional(),
  exchange: Slug.optional(),
  timeframe: Timeframe.optional(),
  symbols: symbols.optional(),
  count: z.number().int().nonnegative().optional(),
  latest: IsoTime.nullable().optional(),
});
export type GenerateSignalsInput = z.infer<typeof GenerateSignalsInput>;

/** A person's order (schemas/api.ts, shared with the API and the web): its parsed form. */
export type ManualOrder = z.output<typeof ManualOrderInput>;

/** Signals to act on (the `signals.created` payload), or one manual order. */
export const PlaceOrderInput = z
  .strictObject({
    signalIds: z.array(Id).min(1).max(500).optional(),
    order: ManualOrderInput.optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.signalIds === undefined) === (v.order === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['signalIds'],
        message: 'give either signalIds or order (not both)',
      });
    }
  });
export type PlaceOrderInput = z.output<typeof PlaceOrderInput>;

/** Orders to record fills for: ids over HTTP, or the `orders.updated` payload. */
export const RecordTradesInput = z
  .strictObject({
    orderIds: z.array(Id).min(1).max(500).optional(),
    orders: EVENT_PAYLOADS['orders.updated'].shape.orders.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.orderIds === undefined && v.orders === undefined) {
      ctx.addIssue({ code: 'custom', path: ['orderIds'], message: 'is required' });
    }
  });
export type RecordTradesInput = z.output<typeof RecordTradesInput>;

export const ReconcileInput = z.strictObject({
  /** Most items of each kind swept in one run (the cron comes back for the rest). */
  limit: z.number().int().min(1).max(5000).default(500),
  /** Skip the account snapshot (tools and tests that sweep often). */
  snapshot: z.boolean().default(true),
});
export type ReconcileInput = z.output<typeof ReconcileInput>;
