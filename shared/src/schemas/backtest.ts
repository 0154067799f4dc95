/**
 * Backtests and parameter sweeps at every boundary (HTTP, CLI, database rows, worker messages). The
 * engine works on plain numbers (backtest/types.ts); `engineConfigOf` in backtest/ converts.
 */
import { z } from 'zod';
import { Id, IsoTime, Slug, TradingSymbol as Ticker, Timeframe, TimeInput } from './common.ts';
import { Exits, Sizing } from './strategy.ts';

export const Commission = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.literal('per_share'),
    perShare: z.number().min(0).max(100).describe('Per unit traded'),
    minimum: z.number().min(0).max(10_000).default(0).describe('At least this much per order'),
  }),
  z.object({
    type: z.literal('percent'),
    percent: z.number().min(0).max(10).describe('Of the notional, 0.1 = 0.1%'),
  }),
  z.object({ type: z.literal('fixed'), perOrder: z.number().min(0).max(10_000).describe('Per order') }),
]);
export type Commission = z.infer<typeof Commission>;

export const FillTiming = z.enum(['next_open', 'next_close', 'close']);
export const TradingCalendar = z.enum(['stocks', 'crypto']);

export const OrderDefaults = z.object({
  type: z.enum(['market', 'limit', 'stop', 'stop_limit']).default('market'),
  limitOffsetBps: z.number().min(0).max(5000).default(0),
  stopOffsetBps: z.number().min(0).max(5000).default(0),
  timeInForce: z.enum(['day', 'gtc']).default('gtc'),
});

/** The market simulation around a strategy: money, costs, fills, exits. Shared by backtests and sweeps. */
export const SimulationSettings = z.object({
  timeframe: Timeframe.default('1Day'),
  /** First bar traded (earlier bars only warm the strategy up); unset = the first stored bar. */
  from: TimeInput.optional(),
  /** Last bar, inclusive; unset = the newest stored bar. */
  to: TimeInput.optional(),
  cash: z.number().positive().max(1e12).default(100_000),
  sizing: Sizing.default({ type: 'fixed_qty', qty: '1' }),
  fractional: z.boolean().default(false),
  commission: Commission.default({ type: 'none' }),
  slippageBps: z.number().min(0).max(1000).default(0),
  fillAt: FillTiming.default('next_open'),
  allowShort: z.boolean().default(false),
  exits: Exits,
  order: OrderDefaults.default({ type: 'market', limitOffsetBps: 0, stopOffsetBps: 0, timeInForce: 'gtc' }),
  /** Annualisation: stocks (252 sessions) or crypto (365 days); default crypto when every symbol is a pair. */
  calendar: TradingCalendar.optional(),
  riskFreeRate: z.number().min(-0.5).max(1).default(0),
});

function checkRange(v: { from?: string; to?: string }, ctx: z.RefinementCtx): void {
  if (v.from && v.to && Date.parse(v.from) > Date.parse(v.to)) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
  }
}

/** One backtest: a strategy with its parameters on some symbols, in one portfolio. */
export const BacktestConfig = SimulationSettings.extend({
  name: z.string().trim().max(200).optional(),
  strategy: Slug,
  params: z.record(z.string(), z.unknown()).default({}),
  symbols: z.array(Ticker).min(1).max(100),
}).superRefine(checkRange);
export type BacktestConfig = z.output<typeof BacktestConfig>;
export type BacktestConfigInput = z.input<typeof BacktestConfig>;

/** A parameter's values in a sweep: a list, or an inclusive range with a step. */
export const ParamValues = z.union([
  z
    .array(z.union([z.number(), z.string(), z.boolean()]))
    .min(1)
    .max(10_000),
  z
    .object({
      min: z.number(),
      max: z.number(),
      step: z.number().positive().optional(),
      /** Random search only: draw integers. */
      integer: z.boolean().default(false),
    })
    .refine((r) => r.max >= r.min, { message: 'max must be >= min', path: ['max'] }),
]);
export type ParamValues = z.infer<typeof ParamValues>;

export const SweepStrategy = z.object({
  strategy: Slug,
  /** Fixed parameters of every run. */
  params: z.record(z.string(), z.unknown()).default({}),
  /** The parameters swept. */
  grid: z.record(z.string(), ParamValues).default({}),
});

/** Metrics a sweep can rank by; maxDrawdown is minimised, the others maximised. */
export const SweepObjective = z.enum([
  'sharpe',
  'sortino',
  'calmar',
  'probabilisticSharpe',
  'totalReturn',
  'cagr',
  'netProfit',
  'profitFactor',
  'sqn',
  'expectancy',
  'winRate',
  'maxDrawdown',
]);
export type SweepObjective = z.infer<typeof SweepObjective>;

/**
 * Many backtests in one request: strategies × symbol sets × parameter combinations, by grid or random
 * search, optionally split in time (a hold-out, or walk-forward folds) so the winner is judged on bars
 * it was not chosen on.
 */
export const SweepRequest = SimulationSettings.extend({
  name: z.string().trim().max(200).optional(),
  strategies: z.array(SweepStrategy).min(1).max(20),
  symbols: z.array(Ticker).min(1).max(100),
  /** each: one run per symbol; together: all symbols in one portfolio per run. */
  symbolMode: z.enum(['each', 'together']).default('each'),
  search: z.enum(['grid', 'random']).default('grid'),
  /** Random search: combinations drawn per strategy. */
  samples: z.number().int().min(1).max(10_000).default(100),
  seed: z.number().int().default(1),
  objective: SweepObjective.default('sharpe'),
  split: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('none') }),
      /** The last `fraction` of the bars is held out: best in-sample combination, then run out of sample. */
      z.object({ type: z.literal('holdout'), fraction: z.number().gt(0).lt(1).default(0.3) }),
      /** k folds: choose on fold i (anchored: on folds 0..i), test on fold i + 1. */
      z.object({
        type: z.literal('walk_forward'),
        folds: z.number().int().min(2).max(20).default(4),
        anchored: z.boolean().default(false),
      }),
    ])
    .default({ type: 'none' }),
  maxRuns: z.number().int().min(1).max(100_000).default(10_000),
}).superRefine(checkRange);
export type SweepRequest = z.output<typeof SweepRequest>;
export type SweepRequestInput = z.input<typeof SweepRequest>;

export const BacktestStatus = z.enum(['queued', 'running', 'completed', 'failed']);
export type BacktestStatus = z.infer<typeof BacktestStatus>;
export const BacktestRole = z.enum(['single', 'grid', 'in_sample', 'out_of_sample']);
export type BacktestRole = z.infer<typeof BacktestRole>;

const num = z.number();
const maybe = z.number().nullable();

/** Every metric of a result; formulas in docs/metrics.md. null = not computable (no losses, zero deviation…). */
export const BacktestMetrics = z.object({
  startEquity: num,
  endEquity: num,
  netProfit: num,
  totalReturn: num,
  cagr: maybe,
  annualVolatility: maybe,
  annualVariance: maybe,
  sharpe: maybe,
  probabilisticSharpe: maybe,
  sortino: maybe,
  calmar: maybe,
  sqn: maybe,
  informationRatio: maybe,
  trackingError: maybe,
  treynor: maybe,
  alpha: maybe,
  beta: maybe,
  benchmarkReturn: num,
  marketChange: num,
  minEquity: num,
  maxEquity: num,
  maxDrawdown: num,
  maxDrawdownAmount: num,
  maxDrawdownStart: IsoTime.nullable(),
  maxDrawdownEnd: IsoTime.nullable(),
  maxDrawdownRecovery: IsoTime.nullable(),
  maxDrawdownDurationMs: num,
  timeToRecoveryMs: maybe,
  longestDrawdownMs: num,
  trades: z.number().int(),
  openTrades: z.number().int(),
  wins: z.number().int(),
  losses: z.number().int(),
  winRate: maybe,
  lossRate: maybe,
  grossProfit: num,
  grossLoss: num,
  profitFactor: maybe,
  expectancy: maybe,
  expectancyRatio: maybe,
  averageWin: maybe,
  averageLoss: maybe,
  winLossRatio: maybe,
  bestTrade: maybe,
  worstTrade: maybe,
  bestTradeReturn: maybe,
  worstTradeReturn: maybe,
  maxConsecutiveWins: z.number().int(),
  maxConsecutiveLosses: z.number().int(),
  tradesPerDay: maybe,
  averageHoldingMs: maybe,
  averageWinnerHoldingMs: maybe,
  averageLoserHoldingMs: maybe,
  averageStake: maybe,
  bestDay: maybe,
  worstDay: maybe,
  winningDays: z.number().int(),
  losingDays: z.number().int(),
  flatDays: z.number().int(),
  exposure: num,
  turnover: maybe,
  tradedVolume: num,
  totalFees: num,
  orders: z.object({
    submitted: z.number().int(),
    filled: z.number().int(),
    rejected: z.number().int(),
    expired: z.number().int(),
    canceled: z.number().int(),
  }),
  bars: z.number().int(),
  periodsPerYear: num,
  riskFreeRate: num,
});
export type BacktestMetrics = z.infer<typeof BacktestMetrics>;

export const ExitReason = z.enum(['signal', 'stop_loss', 'take_profit', 'trailing_stop']);

export const BacktestTrade = z.object({
  seq: z.number().int(),
  symbol: Ticker,
  side: z.enum(['long', 'short']),
  qty: num,
  entryTime: IsoTime,
  entryPrice: num,
  exitTime: IsoTime.nullable(),
  exitPrice: maybe,
  /** Before fees; an open trade's is marked at the last close. */
  pnl: num,
  fees: num,
  netPnl: num,
  returnPct: num,
  exitReason: ExitReason.nullable(),
  bars: z.number().int(),
});
export type BacktestTrade = z.infer<typeof BacktestTrade>;

export const PeriodReturn = z.object({ period: z.string(), return: num });
export type PeriodReturn = z.infer<typeof PeriodReturn>;
export const PeriodicReturns = z.object({
  daily: z.array(PeriodReturn),
  weekly: z.array(PeriodReturn),
  monthly: z.array(PeriodReturn),
});
export type PeriodicReturns = z.infer<typeof PeriodicReturns>;

/** Equity, drawdown and benchmark curves (epoch ms times); `sampled` when thinned for a sweep run. */
export const BacktestSeries = z.object({
  times: z.array(num),
  equity: z.array(num),
  drawdown: z.array(num),
  benchmark: z.array(num),
  returns: PeriodicReturns,
  sampled: z.boolean(),
});
export type BacktestSeries = z.infer<typeof BacktestSeries>;

/** A stored backtest as lists show it. */
export const BacktestSummary = z.object({
  id: Id,
  name: z.string().nullable(),
  strategy: Slug,
  params: z.record(z.string(), z.unknown()),
  symbols: z.array(Ticker),
  timeframe: Timeframe,
  status: BacktestStatus,
  progress: num,
  role: BacktestRole,
  sweepId: Id.nullable(),
  totalReturn: maybe,
  sharpe: maybe,
  maxDrawdown: maybe,
  trades: z.number().int().nullable(),
  endEquity: maybe,
  error: z.string().nullable(),
  createdAt: IsoTime,
  startedAt: IsoTime.nullable(),
  finishedAt: IsoTime.nullable(),
});
export type BacktestSummary = z.infer<typeof BacktestSummary>;

export const BacktestDetail = BacktestSummary.extend({
  config: BacktestConfig,
  metrics: BacktestMetrics.nullable(),
});
export type BacktestDetail = z.infer<typeof BacktestDetail>;

export const SweepStatus = z.enum(['queued', 'running', 'completed', 'failed']);

export const WalkForwardFold = z.object({
  fold: z.number().int(),
  strategy: Slug,
  symbols: z.array(Ticker),
  inSample: z.object({ from: IsoTime, to: IsoTime }),
  outOfSample: z.object({ from: IsoTime, to: IsoTime }),
  bestParams: z.record(z.string(), z.unknown()).nullable(),
  inSampleScore: maybe,
  inSampleBacktestId: Id.nullable(),
  outOfSampleBacktestId: Id.nullable(),
  outOfSampleScore: maybe,
});
export type WalkForwardFold = z.infer<typeof WalkForwardFold>;

export const SweepSummary = z.object({
  id: Id,
  name: z.string().nullable(),
  status: SweepStatus,
  total: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  objective: SweepObjective,
  bestBacktestId: Id.nullable(),
  folds: z.array(WalkForwardFold),
  error: z.string().nullable(),
  createdAt: IsoTime,
  startedAt: IsoTime.nullable(),
  finishedAt: IsoTime.nullable(),
});
export type SweepSummary = z.infer<typeof SweepSummary>;

export const SweepDetail = SweepSummary.extend({ request: SweepRequest });
export type SweepDetail = z.infer<typeof SweepDetail>;

/** What run-backtest answers. */
export const RunBacktestResult = z.object({
  id: Id,
  status: BacktestStatus,
  summary: BacktestSummary,
  metrics: BacktestMetrics.nullable(),
});
export type RunBacktestResult = z.infer<typeof RunBacktestResult>;

/** run-backtest's other input: the id of a queued backtest (how a sweep's async invocations arrive). */
export const QueuedBacktestRun = z.object({ backtestId: Id }).strict();
/** run-backtest's input: a whole BacktestConfig, or a QueuedBacktestRun. */
export type RunBacktestInput = BacktestConfigInput | z.infer<typeof QueuedBacktestRun>;
