/**
 * The HTTP API's request, query and response schemas: the gateway validates with them, generates its
 * OpenAPI document from them, and the web client takes its types from them (z.input for what it sends,
 * z.output for what it receives). Nothing here is re-typed anywhere else.
 *
 * Conventions: money and quantities are decimal strings; instants are ISO strings; list endpoints answer
 * `{ items, nextCursor }` and take `limit` + the opaque `cursor` of the previous page (keyset pagination:
 * rows inserted while paging never cause duplicates or gaps). Lists in a query string are comma-separated.
 * Every error is `{ error: { code, message, fields } }` with `fields` naming each bad input.
 */
import { z } from 'zod';
import {
  BacktestDetail,
  BacktestRole,
  BacktestSeries,
  BacktestStatus,
  BacktestSummary,
  BacktestTrade,
  SweepSummary,
} from './backtest.ts';
import {
  DecimalString,
  Id,
  IsoTime,
  PositiveDecimal,
  Side,
  Slug,
  TradingSymbol as Ticker,
  Timeframe,
  TimeInput,
} from './common.ts';
import { EventTypeSchema } from './events.ts';
import {
  ClientOrderId,
  checkOrderFields,
  ORDER_STATUSES,
  Order,
  OrderClass,
  OrderStatus,
  OrderStatusChange,
  OrderType,
  TimeInForce,
} from './order.ts';
import { Signal, SignalStatus } from './signal.ts';
import { Exits, RiskLimits, Sizing, StrategyConfig, StrategyConfigInput } from './strategy.ts';
import { FunctionRun, RunOutcome, TradingHalt } from './system.ts';
import { Account, Position, Trade } from './trade.ts';

// ---------------------------------------------------------------------------------------------- common

export const ApiErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** Input path (dotted, e.g. `params.fast`) → what is wrong with it. */
    fields: z.record(z.string(), z.string()),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** The opaque position of a page, as returned in `nextCursor`. */
export const Cursor = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be a cursor returned by a previous page' });

export const PageLimit = z.coerce.number().int().min(1).max(500).default(50);

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    /** Pass as `cursor` to get the next (older) page; null on the last page. */
    nextCursor: z.string().nullable(),
  });
}

/** A comma-separated query value, e.g. `status=filled,canceled`. */
export function commaList<T extends z.ZodType>(item: T) {
  return z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1).max(50) as unknown as z.ZodType<z.output<T>[], string[]>);
}

const QueryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const range = {
  /** Inclusive lower bound: ISO instant or YYYY-MM-DD (UTC). */
  from: TimeInput.optional(),
  /** Inclusive upper bound. */
  to: TimeInput.optional(),
};

function rangeCheck(q: { from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (q.from && q.to && q.from > q.to)
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' });
}

export const Ok = z.object({ ok: z.literal(true) });

/** Path parameter `:id`. */
export const IdParam = z.object({ id: Id });
/** Path parameter `:name` (a strategy instance). */
export const NameParam = z.object({ name: Slug });

// ---------------------------------------------------------------------------------------------- health, session

export const Health = z.object({ status: z.literal('ok'), time: IsoTime });
export type Health = z.infer<typeof Health>;

/** POST /api/session: trade the token for an HttpOnly cookie so a plain EventSource can authenticate. */
export const SessionInput = z.object({ token: z.string().min(1).max(1000) });
export const Session = z.object({ ok: z.literal(true), expiresAt: IsoTime });

// ---------------------------------------------------------------------------------------------- account

export const AccountSummary = Account.extend({
  /** `exchange`: read from the venue just now; `snapshot`: the venue was unreachable, last stored snapshot. */
  source: z.enum(['exchange', 'snapshot']),
  /** Trading is halted (the kill switch or a risk halt is active). */
  halted: z.boolean(),
});
export type AccountSummary = z.infer<typeof AccountSummary>;

export const EquityQuery = z
  .object({ ...range, width: z.coerce.number().int().min(2).max(5000).default(500) })
  .superRefine(rangeCheck);
export type EquityQuery = z.input<typeof EquityQuery>;

export const EquityPoint = z.object({ time: IsoTime, equity: DecimalString, cash: DecimalString });
export const EquityHistory = z.object({ exchange: z.string(), points: z.array(EquityPoint) });
export type EquityHistory = z.infer<typeof EquityHistory>;

export const PnlQuery = z
  .object({
    period: z.enum(['day', 'week', 'month']).default('day'),
    ...range,
    strategy: Slug.optional(),
  })
  .superRefine(rangeCheck);
export type PnlQuery = z.input<typeof PnlQuery>;

/** Realised P&L (fees deducted) per calendar period, UTC. */
export const PnlBucket = z.object({
  /** First day of the period, YYYY-MM-DD. */
  start: z.iso.date(),
  realizedPnl: DecimalString,
  fees: DecimalString,
  trades: z.number().int().nonnegative(),
});
export const PnlCalendar = z.object({
  period: z.enum(['day', 'week', 'month']),
  buckets: z.array(PnlBucket),
});
export type PnlCalendar = z.infer<typeof PnlCalendar>;

// ---------------------------------------------------------------------------------------------- positions

export const PositionsQuery = z.object({
  strategy: Slug.optional(),
  symbol: Ticker.optional(),
  /** Include books that are flat (qty 0) but have history. */
  includeClosed: QueryBool.default(false),
});
export type PositionsQuery = z.input<typeof PositionsQuery>;

/** A position's resting protective order at the venue (its stop and / or take-profit). */
export const RestingExit = z.object({
  orderId: Id,
  type: OrderType,
  orderClass: OrderClass,
  stopPrice: DecimalString.nullable(),
  /** The take-profit limit (an oco's or a plain limit's). */
  takeProfit: DecimalString.nullable(),
  stopRule: z.enum(['stop_loss', 'trailing_stop']).nullable(),
  status: OrderStatus,
});
export type RestingExit = z.infer<typeof RestingExit>;

export const PositionView = Position.extend({
  /** Close of the newest stored bar for the symbol, or null when there is none. */
  lastPrice: z.number().nullable(),
  marketValue: DecimalString.nullable(),
  unrealizedPnl: DecimalString.nullable(),
  /** The exit resting at the venue for this position, if any. */
  restingExit: RestingExit.nullable(),
});
export type PositionView = z.infer<typeof PositionView>;
export const PositionList = z.object({ items: z.array(PositionView) });

export const ClosePositionInput = z.object({ strategy: Slug, symbol: Ticker });
export type ClosePositionInput = z.input<typeof ClosePositionInput>;
export const CloseAllInput = z.object({
  /** Only this book; absent = every book. */
  strategy: Slug.optional(),
  /** Required: closing everything is never a default. */
  confirm: z.literal(true, { message: 'must be true to close every position' }),
});
export type CloseAllInput = z.input<typeof CloseAllInput>;

/** Orders sent to flatten positions, and what could not be closed (one line per position). */
export const CloseResult = z.object({ orders: z.array(Order), errors: z.array(z.string()) });
export type CloseResult = z.infer<typeof CloseResult>;

// ---------------------------------------------------------------------------------------------- orders

/** `open` = not final yet, `closed` = final; or any exact status. */
export const OrderStatusFilter = z.enum(['open', 'closed', ...ORDER_STATUSES]);

/** What every trading list filters on, and its page. */
const tradingList = {
  symbol: Ticker.optional(),
  strategy: Slug.optional(),
  side: Side.optional(),
  ...range,
  limit: PageLimit,
  cursor: Cursor.optional(),
};

export const OrdersQuery = z
  .object({ status: commaList(OrderStatusFilter).optional(), ...tradingList })
  .superRefine(rangeCheck);
export type OrdersQuery = z.input<typeof OrdersQuery>;

export const OrderPage = pageOf(Order);
export type OrderPage = z.infer<typeof OrderPage>;

export const OrderDetail = Order.extend({ history: z.array(OrderStatusChange) });
export type OrderDetail = z.infer<typeof OrderDetail>;

/**
 * A manual order: goes through the same claim, risk checks and submit as a strategy's. Exactly one of
 * qty / notional. Strict: an unknown field is a 400 naming it.
 */
export const ManualOrderInput = z
  .strictObject({
    /** The book it belongs to: "manual" by default, or a strategy instance's name. */
    strategy: Slug.default('manual'),
    /** The venue; the configured exchange when absent. */
    exchange: Slug.optional(),
    symbol: Ticker,
    side: Side,
    type: OrderType.default('market'),
    timeInForce: TimeInForce.default('day'),
    qty: PositiveDecimal.optional(),
    notional: PositiveDecimal.optional(),
    limitPrice: PositiveDecimal.optional(),
    stopPrice: PositiveDecimal.optional(),
    trailPercent: PositiveDecimal.optional(),
    /** Idempotency key: the same id twice places one order (a retried click). Generated when absent. */
    clientOrderId: ClientOrderId.max(32).optional(),
  })
  .superRefine(checkOrderFields);
export type ManualOrderInput = z.input<typeof ManualOrderInput>;

/** What became of an order request: `ordered` (at the exchange), `exists` (same clientOrderId), `retry`, `failed`… */
export const OrderOutcome = z.enum([
  'ordered',
  'exists',
  'in_progress',
  'skipped',
  'rejected',
  'failed',
  'retry',
]);
export const ManualOrderResult = z.object({
  outcome: OrderOutcome,
  order: Order.nullable(),
  reason: z.string().nullable(),
});
export type ManualOrderResult = z.infer<typeof ManualOrderResult>;

// ---------------------------------------------------------------------------------------------- trades, signals

export const TradesQuery = z.object(tradingList).superRefine(rangeCheck);
export type TradesQuery = z.input<typeof TradesQuery>;
export const TradePage = pageOf(Trade);
export type TradePage = z.infer<typeof TradePage>;

export const SignalsQuery = z
  .object({ status: SignalStatus.optional(), ...tradingList })
  .superRefine(rangeCheck);
export type SignalsQuery = z.input<typeof SignalsQuery>;
export const SignalPage = pageOf(Signal);
export type SignalPage = z.infer<typeof SignalPage>;

// ---------------------------------------------------------------------------------------------- bars

export const BarsQuery = z
  .object({
    symbol: Ticker,
    timeframe: Timeframe,
    ...range,
    /** At most this many bars come back: a longer range is aggregated into OHLC buckets. */
    width: z.coerce.number().int().min(10).max(5000).default(500),
  })
  .superRefine(rangeCheck);
export type BarsQuery = z.input<typeof BarsQuery>;

/** One chart candle: a stored bar, or the OHLCV aggregate of a bucket of them starting at `time`. */
export const ChartBar = z.object({
  time: IsoTime,
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
});
export type ChartBar = z.infer<typeof ChartBar>;

export const BarsResponse = z.object({
  symbol: Ticker,
  timeframe: Timeframe,
  /** Length of one candle in ms: the timeframe's, or a multiple of it when downsampled. */
  bucketMs: z.number().int().positive(),
  downsampled: z.boolean(),
  bars: z.array(ChartBar),
});
export type BarsResponse = z.infer<typeof BarsResponse>;

/** Symbols and timeframes that have stored bars. */
export const BarSeriesInfo = z.object({
  symbol: Ticker,
  timeframe: Timeframe,
  first: IsoTime,
  last: IsoTime,
});
export const BarSeriesList = z.object({ items: z.array(BarSeriesInfo) });
export type BarSeriesList = z.infer<typeof BarSeriesList>;

// ---------------------------------------------------------------------------------------------- strategies

/** A strategy module (code) and the JSON Schema of its parameters, for the UI's form. */
export const StrategyModuleInfo = z.object({
  name: Slug,
  description: z.string(),
  source: z.enum(['builtin', 'user']),
  /** JSON Schema (draft 2020-12, input side) of the module's params, generated from its zod schema. */
  paramsSchema: z.record(z.string(), z.unknown()).nullable(),
  /** The params the schema yields for `{}` (null when some parameter has no default). */
  defaults: z.record(z.string(), z.unknown()).nullable(),
  /** Why a user module cannot be loaded; null when it loads. */
  error: z.string().nullable(),
});
export type StrategyModuleInfo = z.infer<typeof StrategyModuleInfo>;
export const StrategyModuleList = z.object({ items: z.array(StrategyModuleInfo) });

export const StrategyStatus = z.enum(['running', 'disabled', 'halted', 'error']);
export type StrategyStatus = z.infer<typeof StrategyStatus>;

export const StrategySummary = StrategyConfig.extend({
  /** running = enabled and trading; halted = enabled but a trading halt applies; error = its module won't load. */
  status: StrategyStatus,
  statusReason: z.string().nullable(),
  lastSignal: Signal.nullable(),
  /** Realised P&L of the book, all time, fees deducted. */
  realizedPnl: DecimalString,
  /** Unrealised P&L of its open positions at the newest bar closes (null when a price is missing). */
  unrealizedPnl: DecimalString.nullable(),
  openPositions: z.number().int().nonnegative(),
});
export type StrategySummary = z.infer<typeof StrategySummary>;
export const StrategyList = z.object({ items: z.array(StrategySummary) });
export type StrategyList = z.infer<typeof StrategyList>;

export const StrategyDetail = StrategySummary.extend({
  moduleInfo: StrategyModuleInfo.nullable(),
  positions: z.array(PositionView),
  recentSignals: z.array(Signal),
});
export type StrategyDetail = z.infer<typeof StrategyDetail>;

/** PATCH /api/strategies/:name. `params` is validated against the module's own schema. Unknown keys are refused. */
export const StrategyUpdate = z
  .strictObject({
    description: z.string().max(500).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    symbols: z.array(Ticker).min(1).max(200).optional(),
    timeframe: Timeframe.optional(),
    exchange: Slug.nullable().optional(),
    sizing: Sizing.optional(),
    exits: Exits.unwrap().optional(),
    allowShort: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((u) => Object.keys(u).length > 0, { message: 'nothing to update' });
export type StrategyUpdate = z.input<typeof StrategyUpdate>;

/**
 * POST /api/strategies: a new strategy instance (StrategyConfigInput; unknown keys refused). Created
 * disabled unless `enabled: true`; `params` is validated against the module's own schema (errors name
 * params.<field>). The name is the book its orders, trades and positions belong to: "manual" is taken.
 */
export const StrategyCreate = StrategyConfigInput.strict();
export type StrategyCreate = z.input<typeof StrategyCreate>;

/**
 * DELETE /api/strategies/:name. Refused (409) while the book has an open position or an open order:
 * close and cancel them first (POST /api/positions/close-all with the strategy, POST /api/orders/:id/cancel).
 * Its history (signals, orders, trades) stays under its name.
 */
export const RunStrategyResult = z.object({
  strategy: Slug,
  /** Signals the run created (an already-evaluated bar creates none). */
  signalIds: z.array(Id),
});
export type RunStrategyResult = z.infer<typeof RunStrategyResult>;

export const ReloadResult = z.object({ modules: z.array(Slug), errors: z.record(z.string(), z.string()) });
export type ReloadResult = z.infer<typeof ReloadResult>;

// ---------------------------------------------------------------------------------------------- backtests
// Requests are BacktestConfig (POST /api/backtests) and SweepRequest (POST /api/backtests/sweeps).

export const BacktestsQuery = z.object({
  status: BacktestStatus.optional(),
  strategy: Slug.optional(),
  sweepId: Id.optional(),
  role: BacktestRole.optional(),
  limit: PageLimit,
  cursor: Cursor.optional(),
});
export type BacktestsQuery = z.input<typeof BacktestsQuery>;
export const BacktestPage = pageOf(BacktestSummary);
export type BacktestPage = z.infer<typeof BacktestPage>;

export const BacktestTradesQuery = z.object({
  /** Trades after this sequence number (the previous page's `nextSeq`). */
  afterSeq: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export type BacktestTradesQuery = z.input<typeof BacktestTradesQuery>;
export const BacktestTradePage = z.object({
  items: z.array(BacktestTrade),
  /** Pass as `afterSeq` for the next page; null on the last one. */
  nextSeq: z.number().int().nullable(),
});
export type BacktestTradePage = z.infer<typeof BacktestTradePage>;

/** One backtest whole: config, metrics, equity / drawdown / benchmark curves and its first trades. */
export const BacktestResult = BacktestDetail.extend({
  series: BacktestSeries.nullable(),
  trades: BacktestTradePage,
});
export type BacktestResult = z.infer<typeof BacktestResult>;

export const BacktestCompareQuery = z.object({ ids: commaList(Id) });
export type BacktestCompareQuery = z.input<typeof BacktestCompareQuery>;
export const BacktestComparison = z.object({
  /** In the order asked; unknown ids are left out. */
  items: z.array(BacktestDetail.extend({ series: BacktestSeries.nullable() })),
});
export type BacktestComparison = z.infer<typeof BacktestComparison>;

export const SweepsQuery = z.object({ limit: PageLimit, cursor: Cursor.optional() });
export const SweepPage = pageOf(SweepSummary);
export type SweepPage = z.infer<typeof SweepPage>;

// ---------------------------------------------------------------------------------------------- parity

/** The end of a range: an ISO instant, or a date meaning the whole day (its last millisecond, UTC). */
const RangeEnd = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((v) =>
    v.length === 10
      ? new Date(Date.parse(`${v}T00:00:00Z`) + 86_399_999).toISOString()
      : new Date(v).toISOString(),
  );

/** GET /api/parity: live versus a backtest of the same stored bars and configuration, for a past period. */
export const ParityQuery = z
  .object({
    /** Start of the period: ISO instant or YYYY-MM-DD (UTC). */
    from: TimeInput,
    /** End of the period, inclusive: ISO instant or YYYY-MM-DD (the whole day). */
    to: RangeEnd,
    /** Only these strategy instances (comma-separated); every configured one when absent. */
    strategy: commaList(Slug).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' });
  });
export type ParityQuery = z.input<typeof ParityQuery>;

/** A signal as live took it (with its fate) or as the backtest decided it. */
export const ParitySignal = z.object({
  side: Side,
  price: z.number(),
  /** Live only: what became of the signal (ordered, skipped, rejected…) and why. */
  status: z.string().optional(),
  statusReason: z.string().nullable().optional(),
  createdAt: IsoTime.optional(),
});
/** A fill at the venue (average over the order's fills) or in the simulation. */
export const ParityFill = z.object({
  side: Side,
  qty: z.number(),
  price: z.number(),
  time: IsoTime,
  /** Live only: the order's status and size. */
  orderStatus: z.string().optional(),
  orderQty: z.number().nullable().optional(),
});
export const ParityDifference = z.object({
  kind: z.enum(['signal', 'fill']),
  symbol: Ticker,
  /** The decision bar's time. */
  barTime: IsoTime,
  /** Signals carry ParitySignal, fills ParityFill; null = that side has none. */
  live: z.union([ParityFill, ParitySignal]).nullable(),
  backtest: z.union([ParityFill, ParitySignal]).nullable(),
  /** Why they differ, when the stored data tells; null when it cannot be told. */
  cause: z.string().nullable(),
});
export type ParityDifference = z.infer<typeof ParityDifference>;
const ParityCounts = z.object({
  live: z.number().int().nonnegative(),
  backtest: z.number().int().nonnegative(),
  matched: z.number().int().nonnegative(),
});
export const StrategyParity = z.object({
  strategy: Slug,
  module: z.string(),
  symbols: z.array(Ticker),
  timeframe: Timeframe,
  signals: ParityCounts,
  fills: ParityCounts,
  differences: z.array(ParityDifference),
  /** Why the strategy could not be replayed (unknown module, bad params, no bars); null when it was. */
  error: z.string().nullable(),
});
export type StrategyParity = z.infer<typeof StrategyParity>;
export const ParityReport = z.object({ from: IsoTime, to: IsoTime, strategies: z.array(StrategyParity) });
export type ParityReport = z.infer<typeof ParityReport>;

// ---------------------------------------------------------------------------------------------- kill switch

export const HaltStatus = z.object({
  halted: z.boolean(),
  /** Active halts (the kill switch is scope `global`; risk limits add their own). */
  halts: z.array(TradingHalt),
});
export type HaltStatus = z.infer<typeof HaltStatus>;

export const HaltInput = z.object({
  reason: z.string().trim().min(1).max(500).default('kill switch'),
  /** Also close every position with market orders. Positions are kept unless this is true. */
  flatten: z.boolean().default(false),
});
export type HaltInput = z.input<typeof HaltInput>;

export const HaltResult = HaltStatus.extend({
  /** How many open orders were canceled. */
  canceledOrders: z.number().int().nonnegative(),
  /** Market orders sent to close positions (flatten). */
  flattenOrders: z.array(Order),
  /** Orders that could not be canceled or positions not closed, one line each. */
  errors: z.array(z.string()),
});
export type HaltResult = z.infer<typeof HaltResult>;

// ---------------------------------------------------------------------------------------------- risk limits

/** PUT /api/risk-limits: the whole set (an absent limit is no limit). Unknown fields are refused. */
export const RiskLimitsInput = RiskLimits.strict();
export type RiskLimitsInput = z.input<typeof RiskLimitsInput>;
export const RiskLimitsView = z.object({
  limits: RiskLimits,
  /** Why the stored limits are unusable (every opening order is then refused); null when they are fine. */
  problem: z.string().nullable(),
});
export type RiskLimitsView = z.infer<typeof RiskLimitsView>;

// ---------------------------------------------------------------------------------------------- system

export const FunctionHealth = z.object({
  name: z.string(),
  trigger: z.enum(['cron', 'topic', 'http']),
  schedule: z.string().nullable(),
  topics: z.array(z.string()),
  /** ok: last run fine; failing: last run errored; stale: a cron function missed its schedule; idle: never ran. */
  health: z.enum(['ok', 'failing', 'stale', 'idle']),
  lastRun: FunctionRun.nullable(),
  runs24h: z.number().int().nonnegative(),
  errors24h: z.number().int().nonnegative(),
  lastError: z.object({ at: IsoTime, error: z.string() }).nullable(),
});
export type FunctionHealth = z.infer<typeof FunctionHealth>;

export const SystemStatus = z.object({
  time: IsoTime,
  functions: z.array(FunctionHealth),
  database: z.object({
    ok: z.boolean(),
    latencyMs: z.number().nullable(),
    version: z.string().nullable(),
    error: z.string().nullable(),
  }),
  bus: z.object({
    mode: z.enum(['nats', 'memory']),
    ok: z.boolean(),
    rttMs: z.number().nullable(),
    stream: z
      .object({ name: z.string(), messages: z.number(), lastSeq: z.number(), consumers: z.number() })
      .nullable(),
    error: z.string().nullable(),
  }),
  halt: HaltStatus,
});
export type SystemStatus = z.infer<typeof SystemStatus>;

export const RunsQuery = z.object({
  function: z.string().min(1).max(64).optional(),
  outcome: RunOutcome.optional(),
  limit: PageLimit,
  cursor: Cursor.optional(),
});
export type RunsQuery = z.input<typeof RunsQuery>;
export const RunPage = pageOf(FunctionRun);
export type RunPage = z.infer<typeof RunPage>;

/** One row of the audit log: an event as it was published. */
export const AuditEvent = z.object({
  id: Id,
  eventId: z.string(),
  type: EventTypeSchema,
  correlationId: z.string(),
  occurredAt: IsoTime,
  payload: z.unknown(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditQuery = z.object({
  type: commaList(EventTypeSchema).optional(),
  correlationId: z.string().min(1).max(200).optional(),
  limit: PageLimit,
  cursor: Cursor.optional(),
});
export type AuditQuery = z.input<typeof AuditQuery>;
export const AuditPage = pageOf(AuditEvent);
export type AuditPage = z.infer<typeof AuditPage>;

/** GET /api/events (text/event-stream). Resume with the `Last-Event-ID` header. */
export const StreamQuery = z.object({ types: commaList(EventTypeSchema).optional() });
export type StreamQuery = z.input<typeof StreamQuery>;

/** Data of the first message of every stream (`event: ready`); its id is the resume point. */
export const StreamReady = z.object({
  mode: z.enum(['nats', 'memory']),
  lastEventId: z.string(),
  /** True when events after the client's Last-Event-ID are gone (retention, a new stream): refetch views. */
  gap: z.boolean(),
});
export type StreamReady = z.infer<typeof StreamReady>;
