import { z } from 'zod';
import { Id, IsoTime, PositiveDecimal, Slug, Timeframe, TradingSymbol } from './common.ts';

/** How many units a signal trades. */
export const Sizing = z.discriminatedUnion('type', [
  z.object({ type: z.literal('fixed_qty'), qty: PositiveDecimal }),
  z.object({ type: z.literal('fixed_notional'), notional: PositiveDecimal }),
  z.object({ type: z.literal('percent_equity'), percent: z.number().gt(0).max(100) }),
]);
export type Sizing = z.infer<typeof Sizing>;

/** Exits a user expects without writing code, as fractions of the entry price (0.05 = 5%). */
export const Exits = z
  .object({
    stopLoss: z.number().gt(0).lt(1).optional(),
    takeProfit: z.number().gt(0).optional(),
    trailingStop: z.number().gt(0).lt(1).optional(),
  })
  .default({});
export type Exits = z.infer<typeof Exits>;

/** Which of the exits closed, or is closing, a position. */
export const ExitRule = z.enum(['stop_loss', 'take_profit', 'trailing_stop']);
export type ExitRule = z.infer<typeof ExitRule>;

/** A configured strategy instance: which module, with which parameters, on which symbols. */
export const StrategyConfig = z.object({
  id: Id,
  /** Instance name, unique: the book its orders, trades and positions belong to. */
  name: Slug,
  /** The strategy module's name, e.g. "sma-crossover". */
  module: Slug,
  description: z.string().max(500).default(''),
  params: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  symbols: z.array(TradingSymbol).min(1).max(200),
  timeframe: Timeframe,
  /** Exchange adapter name; null means the configured default. */
  exchange: Slug.nullable(),
  sizing: Sizing,
  exits: Exits,
  allowShort: z.boolean().default(false),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type StrategyConfig = z.infer<typeof StrategyConfig>;

/** Input to create or replace a strategy instance. */
export const StrategyConfigInput = StrategyConfig.omit({ id: true, createdAt: true, updatedAt: true }).extend(
  {
    params: z.record(z.string(), z.unknown()).default({}),
    enabled: z.boolean().default(false),
    exchange: Slug.nullable().default(null),
    sizing: Sizing.default({ type: 'fixed_qty', qty: '1' }),
  },
);
export type StrategyConfigInput = z.input<typeof StrategyConfigInput>;

/** Server-side risk limits; every one is optional (absent = no limit). Decimal strings are dollars. */
export const RiskLimits = z.object({
  maxOrderNotional: PositiveDecimal.optional(),
  maxPositionNotional: PositiveDecimal.optional(),
  maxOpenOrders: z.number().int().positive().optional(),
  /** Realised + unrealised loss for the current UTC day that halts new orders until the next day. */
  dailyLossLimit: PositiveDecimal.optional(),
  /** Minutes a strategy waits after a losing trade before it may open again. */
  cooldownMinutesAfterLoss: z.number().int().nonnegative().optional(),
});
export type RiskLimits = z.infer<typeof RiskLimits>;
