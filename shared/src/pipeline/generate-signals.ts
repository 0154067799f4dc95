/**
 * generate-signals: every enabled strategy sees each stored bar once, in time order.
 *
 * Per (strategy, symbol) a cursor remembers the last bar evaluated. A run builds a fresh instance,
 * replays a lookback of bars up to the cursor (at least twice the warm-up, decisions discarded) so its
 * state is what it would be had it run through all history, then evaluates every newer bar — exactly
 * what the backtester does, so live and backtest decide alike. A series seen for the first time is
 * evaluated on its newest bar only: history is the backtester's, not a reason to trade now.
 *
 * One strategy's failure (unknown module, bad params, a throwing or malformed strategy) is reported with
 * its name and reason and never stops the others; its cursor stays put, so it is retried next run.
 *
 * Exits (stop-loss, take-profit, trailing stop; the strategy's configuration over the module's
 * defaults) are checked here too, on each new bar against the book's open position, with the
 * backtester's rules (strategies/exits.ts). A bar that reaches one becomes an exit signal, which
 * place-order turns into a market order that only closes the position. Where the venue holds the exits
 * as a resting protective order (protect.ts), that order acts inside the bar at the level, and this
 * watch only covers what it does not (a take-profit on a venue without one-cancels-other orders, or a
 * venue that refused or takes no stop orders).
 */
import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { type BarSeries, emptySeries } from '../bars/index.ts';
import { clock } from '../clock/index.ts';
import {
  advanceCursor,
  getCursors,
  getPosition,
  insertSignals,
  listStrategies,
  loadSeries,
  type NewSignal,
  openProtectiveOrder,
  sendNow,
  transaction,
} from '../db/index.ts';
import { notFound } from '../runtime/errors.ts';
import {
  type Order,
  type Position,
  type Signal,
  type StrategyConfig,
  TIMEFRAME_MS,
} from '../schemas/index.ts';
import {
  type BarView,
  BUY,
  exitHit,
  exitRuleText,
  hasExits,
  loadStrategy,
  mergeExits,
  type OrderHint,
  orderHintProblem,
  SELL,
  type StrategyExits,
  type StrategyModule,
} from '../strategies/index.ts';
import { errorMessage, logOf, type PipelineContext, publish } from './context.ts';
import { exchangeOf } from './fetch-bars.ts';
import type { GenerateSignalsInput } from './inputs.ts';

/** Most bars one run evaluates per series; a longer backlog is worked off over several runs. */
export const MAX_EVALUATE_BARS = 10_000;

/** Bars replayed before the first evaluated one: enough for any indicator to settle. */
export const lookbackFor = (warmup: number): number => Math.max(2 * warmup, warmup + 10);

export interface StrategyRunResult {
  name: string;
  status: 'ok' | 'error';
  /** Bars evaluated (after the replay). */
  evaluated: number;
  signals: number;
  reason?: string;
}

export interface GenerateSignalsResult {
  strategies: StrategyRunResult[];
  signalIds: number[];
}

export class StrategyError extends Error {
  constructor(
    readonly strategy: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'StrategyError';
  }
}

function concat(a: BarSeries, b: BarSeries): BarSeries {
  const s = emptySeries(a.symbol, a.timeframe, a.length + b.length);
  for (const k of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
    s[k].set(a[k], 0);
    s[k].set(b[k], a.length);
  }
  return s;
}

/** Validates params and warm-up, and resolves the exits; a problem is a StrategyError naming the field. */
function prepare(
  strategy: StrategyConfig,
  module: StrategyModule,
): { params: unknown; warmup: number; exits: StrategyExits } {
  const parsed = module.params.safeParse(strategy.params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StrategyError(strategy.name, `params.${issue.path.join('.')}: ${issue.message}`);
  }
  const warmup = module.warmup(parsed.data);
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new StrategyError(strategy.name, `warmup() returned ${warmup}, not a non-negative integer`);
  }
  let moduleExits: StrategyExits;
  try {
    moduleExits = module.exits ? (module.exits(parsed.data) ?? {}) : {};
  } catch (e) {
    throw new StrategyError(strategy.name, `exits() threw: ${errorMessage(e)}`);
  }
  return { params: parsed.data, warmup, exits: mergeExits(moduleExits, strategy.exits) };
}

/**
 * The exit signal, if any, among the new bars `series[from…]` for an open position: each bar is checked
 * against the levels with the best price since entry before it. A strategy signal that closes the
 * position first ends the watch; the exit replaces a strategy signal on its own bar.
 */
async function watchExits(
  tx: Sql,
  strategy: StrategyConfig,
  exits: StrategyExits,
  position: Position,
  series: BarSeries,
  from: number,
  decided: readonly NewSignal[],
): Promise<NewSignal | null> {
  const qty = Number(position.qty);
  if (qty === 0 || from >= series.length) return null;
  const long = qty > 0;
  const entry = Number(position.avgPrice);
  const tf = strategy.timeframe;
  // The bars the position lived through: from the one its first fill fell in.
  const since = position.openedAt
    ? Date.parse(position.openedAt) - TIMEFRAME_MS[tf]
    : Number.NEGATIVE_INFINITY;
  let mark = entry;
  if (Number.isFinite(since) && (exits.trailingStop ?? 0) > 0) {
    const [w] = await tx<{ hi: number | null; lo: number | null }[]>`
      SELECT max(high) AS hi, min(low) AS lo FROM bars
      WHERE symbol = ${series.symbol} AND timeframe = ${tf}
        AND ts > ${new Date(since)} AND ts < ${new Date(series.time[from])}`;
    if (long && w.hi !== null) mark = Math.max(mark, w.hi);
    if (!long && w.lo !== null) mark = Math.min(mark, w.lo);
  }
  const closing = long ? 'sell' : 'buy';
  const closedAt = decided.find((d) => d.side === closing)?.barTime ?? Number.POSITIVE_INFINITY;
  for (let i = from; i < series.length; i++) {
    const time = series.time[i];
    if (time <= since) continue;
    if (time > closedAt) return null;
    const bar = { high: series.high[i], low: series.low[i] };
    const hit = exitHit(long, entry, mark, bar, exits);
    if (hit) {
      return {
        strategy: strategy.name,
        symbol: series.symbol,
        timeframe: tf,
        barTime: time,
        side: closing,
        price: series.close[i],
        exit: hit.rule,
        reason: `${exitRuleText(hit.rule)}: ${long ? 'low' : 'high'} ${long ? bar.low : bar.high} reached ${Number(hit.level.toPrecision(10))} (entry ${entry}, ${long ? 'long' : 'short'} ${Math.abs(qty)})`,
      };
    }
    mark = long ? Math.max(mark, bar.high) : Math.min(mark, bar.low);
  }
  return null;
}

/**
 * The exits a resting protective order leaves to the bar-close watch: its stop covers stop-loss and
 * trailing stop, its limit (or an oco's) the take-profit, and a market close everything.
 */
function uncovered(exits: StrategyExits, resting: Order): StrategyExits {
  if (resting.type === 'market') return {};
  const out: StrategyExits = { ...exits };
  if (resting.stopPrice !== null) {
    delete out.stopLoss;
    delete out.trailingStop;
  }
  if (resting.orderClass === 'oco' || resting.type === 'limit') delete out.takeProfit;
  return out;
}

/** The hint as stored (a copy: a strategy may reuse its object); a plain market order is stored as none. */
function orderOf(h: OrderHint | null | undefined): OrderHint | null {
  if (!h || (h.type === 'market' && h.timeInForce === undefined)) return null;
  // Only the prices the type uses: a venue refuses a limit order that carries a stop price.
  const out: OrderHint = { type: h.type };
  if (h.type === 'limit' || h.type === 'stop_limit') out.limitPrice = h.limitPrice;
  if (h.type === 'stop' || h.type === 'stop_limit') out.stopPrice = h.stopPrice;
  if (h.timeInForce !== undefined) out.timeInForce = h.timeInForce;
  return out;
}

/** Evaluates one symbol's new bars; returns the signals and the last bar evaluated (or null). */
async function evaluateSymbol(
  tx: Sql,
  strategy: StrategyConfig,
  module: StrategyModule,
  params: unknown,
  warmup: number,
  symbol: string,
  cursor: number | undefined,
  exits: StrategyExits,
): Promise<{ signals: NewSignal[]; last: number | null; evaluated: number; guarded?: boolean }> {
  const tf = strategy.timeframe;
  const lookback = lookbackFor(warmup);
  let fresh: BarSeries;
  let replay: BarSeries;
  if (cursor === undefined) {
    fresh = await loadSeries(tx, { symbol, timeframe: tf, limit: 1 }); // first look: the newest bar only
    if (fresh.length === 0) return { signals: [], last: null, evaluated: 0 };
    replay = await loadSeries(tx, { symbol, timeframe: tf, to: fresh.time[0] - 1, limit: lookback });
  } else {
    // The bars after the cursor and the lookback up to it: independent, so both in one round trip.
    [fresh, replay] = await Promise.all([
      loadSeries(tx, { symbol, timeframe: tf, from: cursor + 1, limit: MAX_EVALUATE_BARS }),
      loadSeries(tx, { symbol, timeframe: tf, to: cursor, limit: lookback }),
    ]);
    if (fresh.length === 0) return { signals: [], last: null, evaluated: 0 };
  }
  const series = concat(replay, fresh);
  let instance: ReturnType<StrategyModule['create']>;
  try {
    instance = module.create(params as never);
  } catch (e) {
    throw new StrategyError(strategy.name, `create() threw: ${errorMessage(e)}`);
  }
  if (!instance || typeof instance.next !== 'function') {
    throw new StrategyError(strategy.name, 'create() did not return an object with next(bar)');
  }
  const view: BarView = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  const signals: NewSignal[] = [];
  for (let i = 0; i < series.length; i++) {
    view.time = series.time[i];
    view.open = series.open[i];
    view.high = series.high[i];
    view.low = series.low[i];
    view.close = series.close[i];
    view.volume = series.volume[i];
    let d: unknown;
    try {
      d = instance.next(view);
    } catch (e) {
      throw new StrategyError(
        strategy.name,
        `next() threw on ${symbol} at ${new Date(view.time).toISOString()}: ${errorMessage(e)}`,
      );
    }
    if (d !== BUY && d !== SELL && d !== 0) {
      throw new StrategyError(
        strategy.name,
        `next() returned ${String(d)} on ${symbol}; expected -1, 0 or 1`,
      );
    }
    if (i < replay.length || d === 0) continue;
    let hint: unknown = null;
    if (instance.order) {
      try {
        hint = instance.order();
      } catch (e) {
        throw new StrategyError(
          strategy.name,
          `order() threw on ${symbol} at ${new Date(view.time).toISOString()}: ${errorMessage(e)}`,
        );
      }
      const problem = orderHintProblem(hint);
      if (problem) throw new StrategyError(strategy.name, `${problem} on ${symbol}`);
    }
    signals.push({
      strategy: strategy.name,
      symbol,
      timeframe: tf,
      barTime: view.time,
      side: d === BUY ? 'buy' : 'sell',
      price: view.close,
      reason: `${module.name}: ${d === BUY ? 'buy' : 'sell'} at close ${view.close}`,
      order: orderOf(hint as OrderHint | null | undefined),
    });
  }
  let guarded = false;
  if (hasExits(exits)) {
    const [position, resting] = await Promise.all([
      getPosition(tx, strategy.name, symbol),
      openProtectiveOrder(tx, strategy.name, symbol),
    ]);
    // Its resting exits may need placing or moving after this bar (protect-positions).
    guarded = resting !== null || (position !== null && Number(position.qty) !== 0);
    const watched = resting ? uncovered(exits, resting) : exits;
    const exit =
      position && hasExits(watched)
        ? await watchExits(tx, strategy, watched, position, series, replay.length, signals)
        : null;
    if (exit) {
      const i = signals.findIndex((x) => x.barTime === exit.barTime);
      if (i >= 0) signals.splice(i, 1);
      signals.push(exit);
      signals.sort((a, b) => a.barTime - b.barTime);
    }
  }
  return { signals, last: fresh.time[fresh.length - 1], evaluated: fresh.length, guarded };
}

/**
 * A run's signals and cursors are re-derived from the stored bars if a PostgreSQL crash loses them
 * (the strategies are deterministic), and the claim that acts on a signal commits synchronously after
 * them (WAL is flushed in order): their commit need not wait for the disk.
 */
const RECOVERABLE = { synchronousCommit: false };

/** Runs one strategy over its symbols in one transaction, holding its lock (concurrent runs queue). */
async function runStrategy(
  ctx: PipelineContext,
  strategy: StrategyConfig,
  load: (name: string) => Promise<StrategyModule>,
  onlySymbols: ReadonlySet<string> | null,
): Promise<{ result: StrategyRunResult; created: Signal[]; guarded: string[] }> {
  let module: StrategyModule;
  try {
    module = await load(strategy.module);
  } catch (e) {
    throw new StrategyError(strategy.name, errorMessage(e));
  }
  const { params, warmup, exits } = prepare(strategy, module);
  return transaction(
    ctx.sql,
    async (tx, control) => {
      // Sent first, so the cursors are read under the strategy's lock; both in one round trip.
      const lock = sendNow(
        tx`SELECT pg_advisory_xact_lock(hashtextextended(${`signals:${strategy.name}`}, 0))`,
      );
      const cursors = await getCursors(tx, strategy.id);
      await lock;
      const symbols = strategy.symbols.filter((symbol) => !onlySymbols || onlySymbols.has(symbol));
      // Every symbol's bars are loaded at once (pipelined on the transaction's connection).
      const results = await Promise.all(
        symbols.map((symbol) =>
          evaluateSymbol(tx, strategy, module, params, warmup, symbol, cursors.get(symbol), exits),
        ),
      );
      const pending = results.flatMap((r) => r.signals);
      const evaluated = results.reduce((n, r) => n + r.evaluated, 0);
      // The signals, the cursors and the commit: one round trip.
      const [created] = await Promise.all([
        insertSignals(tx, pending),
        ...results.map((r, i) =>
          r.last === null ? null : advanceCursor(tx, strategy.id, symbols[i], r.last),
        ),
        control.commit(),
      ]);
      return {
        result: { name: strategy.name, status: 'ok' as const, evaluated, signals: created.length },
        created,
        guarded: symbols.filter((_, i) => results[i].guarded),
      };
    },
    RECOVERABLE,
  );
}

export interface GenerateSignalsOptions {
  /** How a module is found by name; the registry's loadStrategy unless a caller supplies its own. */
  loadStrategy?: (name: string) => Promise<StrategyModule>;
}

export async function generateSignals(
  ctx: PipelineContext,
  input: GenerateSignalsInput = {},
  options: GenerateSignalsOptions = {},
): Promise<GenerateSignalsResult> {
  const log = logOf(ctx);
  const load = options.loadStrategy ?? loadStrategy;
  const enabled = await listStrategies(ctx.sql, { enabled: true });
  if (input.strategies) {
    const all = new Set((await listStrategies(ctx.sql)).map((s) => s.name));
    const i = input.strategies.findIndex((n) => !all.has(n));
    if (i >= 0) throw notFound(`strategy "${input.strategies[i]}"`, `strategies.${i}`);
  }
  const onlySymbols = input.symbols ? new Set(input.symbols) : null;
  const chosen = enabled.filter(
    (s) =>
      (!input.strategies || input.strategies.includes(s.name)) &&
      (!input.timeframe || s.timeframe === input.timeframe) &&
      (!input.exchange || exchangeOf(s) === input.exchange) &&
      (!onlySymbols || s.symbols.some((sym) => onlySymbols.has(sym))),
  );
  const results: StrategyRunResult[] = [];
  const created: Signal[] = [];
  const due: { strategy: string; symbol: string }[] = [];
  for (const strategy of chosen) {
    try {
      const r = await runStrategy(ctx, strategy, load, onlySymbols);
      results.push(r.result);
      created.push(...r.created);
      for (const symbol of r.guarded) due.push({ strategy: strategy.name, symbol });
    } catch (e) {
      const reason = errorMessage(e);
      log.warn({ strategy: strategy.name, err: reason }, 'strategy skipped');
      results.push({ name: strategy.name, status: 'error', evaluated: 0, signals: 0, reason });
    }
  }
  const signalIds = created.map((s) => s.id).sort((a, b) => a - b);
  if (signalIds.length > 0) {
    await publish(
      ctx,
      'signals.created',
      { signalIds },
      `signals.created:${signalIds[0]}-${signalIds[signalIds.length - 1]}:${signalIds.length}`,
    );
  }
  if (due.length > 0) {
    // One wake-up per run: its id names the books and the bar they were evaluated through.
    const key = due.map((b) => `${b.strategy}/${b.symbol}`).join(',');
    await publish(
      ctx,
      'protection.due',
      { books: due.slice(0, 500) },
      `protection.due:${input.latest ?? clock().now()}:${createHash('sha256').update(key).digest('hex').slice(0, 16)}`,
    );
  }
  return { strategies: results, signalIds };
}
