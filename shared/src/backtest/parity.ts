/**
 * Live versus backtest, for a past period: the stored bars are replayed through the backtester with each
 * strategy's live configuration (module, parameters, symbols, sizing, exits, shorting), and every signal
 * and fill is set beside its live counterpart. What differs is listed with its cause where the database
 * can tell: a bar revised after the signal, a bar missing when the strategy ran, a signal skipped or
 * rejected by the risk checks (a halt), a venue refusal, a partial fill, slippage against the
 * simulated price, a late signal (a restart or a backlog). Reads the live tables; writes nothing.
 */
import type { Sql } from 'postgres';
import { loadSeries } from '../db/bars.ts';
import { listStrategies } from '../db/strategies.ts';
import { HttpError } from '../runtime/errors.ts';
import { type StrategyConfig, TIMEFRAME_MS } from '../schemas/index.ts';
import { exitRuleText, prepareStrategy } from '../strategies/index.ts';
import { isoTime } from './calendar.ts';
import { concatSeries } from './data.ts';
import { runBacktest, type SimulationSettings } from './run.ts';
import type { DecisionRecord, FillRecord } from './types.ts';

export interface ParitySignal {
  side: 'buy' | 'sell';
  price: number;
  status?: string;
  statusReason?: string | null;
  createdAt?: string;
}

export interface ParityFill {
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  time: string;
  orderStatus?: string;
  orderQty?: number | null;
}

export interface ParityDifference {
  kind: 'signal' | 'fill';
  symbol: string;
  /** The decision bar's time (signals) or the bar the fill belongs to. */
  barTime: string;
  live: ParitySignal | ParityFill | null;
  backtest: ParitySignal | ParityFill | null;
  /** Why they differ, when the stored data says; null when it cannot be told. */
  cause: string | null;
}

export interface StrategyParity {
  strategy: string;
  module: string;
  symbols: string[];
  timeframe: string;
  signals: { live: number; backtest: number; matched: number };
  fills: { live: number; backtest: number; matched: number };
  differences: ParityDifference[];
  /** Set when the strategy could not be replayed (unknown module, bad params, no bars). */
  error: string | null;
}

export interface ParityReport {
  from: string;
  to: string;
  strategies: StrategyParity[];
}

interface LiveSignalRow {
  id: number;
  symbol: string;
  bar_time: Date;
  side: 'buy' | 'sell';
  price: number;
  status: string;
  status_reason: string | null;
  exit_rule: string | null;
  created_at: Date;
}

interface LiveFillRow {
  signal_id: number | null;
  symbol: string;
  side: 'buy' | 'sell';
  order_status: string;
  order_qty: string | null;
  error_message: string | null;
  qty: string | null;
  price: string | null;
  filled_at: Date | null;
  bar_time: Date | null;
  exit_rule: string | null;
  signal_created_at: Date;
  /** A resting protective order's fill (no signal: the venue acted on the level). */
  protective?: boolean;
}

interface ProtectiveExitRow {
  id: number;
  symbol: string;
  side: 'buy' | 'sell';
  order_status: string;
  order_qty: string | null;
  qty: string;
  price: string;
  filled_at: Date;
  bar_time: Date | null;
  exit_rule: string;
  created_at: Date;
}

/** Equal up to float noise (a level computed as entry × (1 − 5%) against its decimal at the venue). */
const samePrice = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/**
 * Fills of the strategy's resting protective orders (protect.ts): each is a live exit on the bar its
 * fill fell in, named by the level it filled at (the take-profit limit, else the stop's rule).
 */
function protectiveExits(sql: Sql, s: StrategyConfig): Promise<ProtectiveExitRow[]> {
  return sql<ProtectiveExitRow[]>`
    WITH p AS (
      SELECT o.id, o.symbol, o.side, o.type, o.order_class, o.limit_price, o.stop_rule, o.status, o.qty,
             o.created_at, sum(f.qty) AS fqty, sum(f.qty * f.price) / sum(f.qty) AS fprice,
             min(f.filled_at) AS filled_at
      FROM orders o JOIN fills f ON f.order_id = o.id
      WHERE o.strategy = ${s.name} AND o.protective
      GROUP BY o.id
    )
    SELECT p.id, p.symbol, p.side, p.status AS order_status, p.qty::text AS order_qty, p.fqty::text AS qty,
           p.fprice::text AS price, p.filled_at, p.created_at,
           (SELECT max(b.ts) FROM bars b
            WHERE b.symbol = p.symbol AND b.timeframe = ${s.timeframe} AND b.ts <= p.filled_at) AS bar_time,
           CASE WHEN p.type = 'limit' AND (p.order_class = 'simple'
                  OR (p.side = 'sell' AND p.fprice >= p.limit_price) OR (p.side = 'buy' AND p.fprice <= p.limit_price))
                THEN 'take_profit'
                ELSE coalesce(p.stop_rule, 'take_profit') END AS exit_rule
    FROM p`;
}

/** Relative price difference in basis points. */
const bps = (a: number, b: number): number => Math.round(((a - b) / b) * 10_000 * 100) / 100;

/** Replays one strategy and compares it with what it did live. */
async function strategyParity(
  sql: Sql,
  s: StrategyConfig,
  from: number,
  to: number,
): Promise<StrategyParity> {
  const out: StrategyParity = {
    strategy: s.name,
    module: s.module,
    symbols: s.symbols,
    timeframe: s.timeframe,
    signals: { live: 0, backtest: 0, matched: 0 },
    fills: { live: 0, backtest: 0, matched: 0 },
    differences: [],
    error: null,
  };
  let prepared: Awaited<ReturnType<typeof prepareStrategy>>;
  try {
    prepared = await prepareStrategy(s.module, s.params);
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    return out;
  }
  const step = TIMEFRAME_MS[s.timeframe];
  // The replay the live pipeline does before the first bar it evaluates (generate-signals).
  const lookback = Math.max(2 * prepared.warmup, prepared.warmup + 10);
  const series = [];
  for (const symbol of s.symbols) {
    const main = await loadSeries(sql, { symbol, timeframe: s.timeframe, from, to });
    const warm = await loadSeries(sql, { symbol, timeframe: s.timeframe, to: from - 1, limit: lookback });
    series.push(concatSeries(warm, main));
  }
  const symbols = series.filter((x) => x.length > 0);
  if (symbols.length === 0) {
    out.error = `no ${s.timeframe} bars stored for ${s.symbols.join(', ')} in the period`;
    return out;
  }
  const settings: SimulationSettings = {
    timeframe: s.timeframe,
    from: isoTime(from),
    to: isoTime(to),
    cash: 1_000_000_000,
    sizing: s.sizing,
    fractional: s.sizing.type !== 'fixed_qty',
    commission: { type: 'none' },
    slippageBps: 0,
    fillAt: 'next_open',
    allowShort: s.allowShort,
    exits: s.exits,
    order: { type: 'market', limitOffsetBps: 0, stopOffsetBps: 0, timeInForce: 'gtc' },
    riskFreeRate: 0,
  };
  const outcome = runBacktest(symbols, prepared, settings, { detail: 'summary' });
  const decisions = outcome.decisions.filter((d) => d.time >= from && d.time <= to);
  const [liveSignals, protective] = await Promise.all([
    sql<LiveSignalRow[]>`
      SELECT id, symbol, bar_time, side, price, status, status_reason, exit_rule, created_at FROM signals
      WHERE strategy = ${s.name} AND timeframe = ${s.timeframe} AND bar_time BETWEEN ${new Date(from)} AND ${new Date(to)}
      ORDER BY bar_time, symbol`,
    protectiveExits(sql, s),
  ]);
  // A resting order's fill is the live exit of its bar, as an exit signal would be.
  const restingExits = protective.filter(
    (p) => p.bar_time !== null && p.bar_time.getTime() >= from && p.bar_time.getTime() <= to,
  );
  for (const p of restingExits) {
    liveSignals.push({
      id: -p.id,
      symbol: p.symbol,
      bar_time: p.bar_time!,
      side: p.side,
      price: Number(p.price),
      status: p.order_status,
      status_reason: `filled by the resting protective order ${p.id}`,
      exit_rule: p.exit_rule,
      created_at: p.created_at,
    });
  }
  liveSignals.sort((a, b) => a.bar_time.getTime() - b.bar_time.getTime() || (a.symbol < b.symbol ? -1 : 1));
  const key = (symbol: string, t: number) => `${symbol}|${t}`;
  // The backtest's exits (stop-loss, take-profit, trailing stop), by the bar they happened in: live
  // trading stores each as an exit signal on the bar that reached the level.
  const simulatedExits = new Map<string, FillRecord>();
  for (const f of outcome.fills) {
    if (f.reason !== 'signal' && f.time >= from && f.time <= to) simulatedExits.set(key(f.symbol, f.time), f);
  }
  out.signals.live = liveSignals.length;
  out.signals.backtest = decisions.length + simulatedExits.size;
  const simulated = new Map<string, DecisionRecord>(decisions.map((d) => [key(d.symbol, d.time), d]));
  const closeAt = new Map<string, number>();
  for (const x of symbols)
    for (let i = 0; i < x.length; i++) closeAt.set(key(x.symbol, x.time[i]), x.close[i]);
  const seen = new Set<string>();
  const seenExits = new Set<string>();
  // Exits stored as signals, which take their bar's signal slot (a resting order's fill takes none).
  const signalExits = new Set<string>();
  for (const l of liveSignals) {
    const t = l.bar_time.getTime();
    const k = key(l.symbol, t);
    const live: ParitySignal = {
      side: l.side,
      price: l.price,
      status: l.status,
      statusReason: l.status_reason,
      createdAt: l.created_at.toISOString(),
    };
    if (l.exit_rule !== null) {
      seenExits.add(k);
      if (l.id > 0) signalExits.add(k);
      const x = simulatedExits.get(k);
      if (x && x.reason === l.exit_rule && x.side === l.side) {
        out.signals.matched++;
        continue;
      }
      out.differences.push({
        kind: 'signal',
        symbol: l.symbol,
        barTime: isoTime(t),
        live,
        backtest: x ? { side: x.side, price: x.price } : null,
        cause: x
          ? `both exited on this bar, live by its ${exitRuleText(l.exit_rule)}, the backtest by its ${exitRuleText(x.reason)}`
          : `a live ${exitRuleText(l.exit_rule)} the backtest did not take on this bar (its position or entry price differed)`,
      });
      continue;
    }
    seen.add(k);
    const b = simulated.get(k);
    const stored = closeAt.get(k);
    const bSide = b ? (b.decision > 0 ? 'buy' : 'sell') : null;
    if (b && bSide === l.side) {
      out.signals.matched++;
      continue;
    }
    let cause: string | null = null;
    if (stored === undefined) cause = 'the bar the signal was taken on is no longer stored';
    else if (stored !== l.price)
      cause = `the bar was revised after the signal: live saw close ${l.price}, stored close is ${stored}`;
    else
      cause =
        'the live strategy saw a different history (a restart replays only a lookback, or earlier bars arrived late)';
    out.differences.push({
      kind: 'signal',
      symbol: l.symbol,
      barTime: isoTime(t),
      live,
      backtest: b ? { side: bSide as 'buy' | 'sell', price: b.price } : null,
      cause,
    });
  }
  for (const [k, x] of simulatedExits) {
    if (seenExits.has(k)) continue;
    out.differences.push({
      kind: 'signal',
      symbol: x.symbol,
      barTime: isoTime(x.time),
      live: null,
      backtest: { side: x.side, price: x.price },
      cause: `a ${exitRuleText(x.reason)} the backtest took that live trading did not (its position or entry price differed)`,
    });
  }
  const created = Date.parse(s.createdAt);
  for (const d of decisions) {
    const k = key(d.symbol, d.time);
    if (seen.has(k)) continue;
    const cause = signalExits.has(k)
      ? "live trading stored its exit on this bar instead (one signal per bar; an exit's slot wins)"
      : d.time < created
        ? 'the strategy was created after this bar'
        : 'no live signal: the bar was missing when the strategy ran, or the strategy was disabled or failing then';
    out.differences.push({
      kind: 'signal',
      symbol: d.symbol,
      barTime: isoTime(d.time),
      live: null,
      backtest: { side: d.decision > 0 ? 'buy' : 'sell', price: d.price },
      cause,
    });
  }

  // Fills: each live order of a signal in the period against the simulated fill of the same decision.
  const liveFills = await sql<LiveFillRow[]>`
    SELECT o.signal_id, o.symbol, o.side, o.status AS order_status, o.qty::text AS order_qty, o.error_message,
           sum(f.qty)::text AS qty,
           (sum(f.qty * f.price) / nullif(sum(f.qty), 0))::text AS price,
           min(f.filled_at) AS filled_at, sg.bar_time, sg.exit_rule, sg.created_at AS signal_created_at
    FROM orders o
    JOIN signals sg ON sg.id = o.signal_id
    LEFT JOIN fills f ON f.order_id = o.id
    WHERE o.strategy = ${s.name} AND sg.bar_time BETWEEN ${new Date(from)} AND ${new Date(to)}
    GROUP BY o.id, sg.bar_time, sg.exit_rule, sg.created_at
    ORDER BY sg.bar_time, o.symbol`;
  for (const p of restingExits) {
    liveFills.push({
      signal_id: null,
      symbol: p.symbol,
      side: p.side,
      order_status: p.order_status,
      order_qty: p.order_qty,
      error_message: null,
      qty: p.qty,
      price: p.price,
      filled_at: p.filled_at,
      bar_time: p.bar_time,
      exit_rule: p.exit_rule,
      signal_created_at: p.created_at,
      protective: true,
    });
  }
  liveFills.sort((a, b) => (a.bar_time as Date).getTime() - (b.bar_time as Date).getTime());
  // The simulated fill of a decision: the next fill of that symbol after the decision bar.
  const fillsBySymbol = new Map<string, FillRecord[]>();
  for (const f of outcome.fills) {
    if (f.reason !== 'signal') continue;
    const list = fillsBySymbol.get(f.symbol) ?? [];
    list.push(f);
    fillsBySymbol.set(f.symbol, list);
  }
  const simulatedFillOf = (symbol: string, barTime: number): FillRecord | undefined =>
    fillsBySymbol
      .get(symbol)
      ?.find((f) => f.time > barTime && f.time <= barTime + 10 * step + 4 * 86_400_000);
  const usedSim = new Set<FillRecord>();
  out.fills.backtest =
    outcome.fills.filter((f) => f.time >= from && f.reason === 'signal').length + simulatedExits.size;
  for (const l of liveFills) {
    const barTime = (l.bar_time as Date).getTime();
    // An exit's simulated fill is inside its bar, at the level; a decision's is at a later bar.
    const sim =
      l.exit_rule !== null ? simulatedExits.get(key(l.symbol, barTime)) : simulatedFillOf(l.symbol, barTime);
    if (sim) usedSim.add(sim);
    const qty = l.qty === null ? 0 : Number(l.qty);
    if (qty > 0) out.fills.live++;
    const live: ParityFill | null =
      qty > 0
        ? {
            side: l.side,
            qty,
            price: Number(l.price),
            time: (l.filled_at as Date).toISOString(),
            orderStatus: l.order_status,
            orderQty: l.order_qty === null ? null : Number(l.order_qty),
          }
        : null;
    const backtest: ParityFill | null = sim
      ? { side: sim.side, qty: sim.qty, price: sim.price, time: isoTime(sim.time) }
      : null;
    let cause: string | null = null;
    if (!live) {
      cause = l.error_message
        ? `the order was not filled: ${l.order_status}: ${l.error_message}`
        : `the order was not filled (${l.order_status})`;
    } else if (!backtest) cause = 'the backtest did not fill this decision (no next bar, or no cash)';
    else if (l.order_qty !== null && qty < Number(l.order_qty))
      cause = `a partial fill: ${qty} of ${l.order_qty}`;
    else if (l.exit_rule !== null && l.protective && !samePrice(live.price, backtest.price))
      cause = `an exit (${exitRuleText(l.exit_rule)}) by the resting order: filled at ${live.price}, the backtest at its level ${backtest.price} (${bps(live.price, backtest.price)} bps: the venue's price grid, or a gap through the level)`;
    else if (l.exit_rule !== null && !samePrice(live.price, backtest.price))
      cause = `an exit (${exitRuleText(l.exit_rule)}): the backtest fills at the level inside the bar, ${backtest.price}; live trading orders at the bar's close and filled at ${live.price} (${bps(live.price, backtest.price)} bps)`;
    else if (!samePrice(live.price, backtest.price)) {
      const lag = l.signal_created_at.getTime() - barTime;
      // A signal taken well after its bar (a restart, a backlog) is filled later than the next open.
      cause =
        lag > 2 * step
          ? `the signal was taken ${Math.round(lag / 60_000)} min after its bar (a restart or a backlog): filled at ${live.price}, the next open was ${backtest.price}`
          : `slippage against the simulated price: ${live.price} live vs ${backtest.price} simulated (${bps(live.price, backtest.price)} bps)`;
    } else if (live.qty !== backtest.qty)
      cause = `a different size: ${live.qty} live vs ${backtest.qty} simulated (sizing from live equity)`;
    if (cause === null) {
      out.fills.matched++;
      continue;
    }
    out.differences.push({
      kind: 'fill',
      symbol: l.symbol,
      barTime: isoTime(barTime),
      live,
      backtest,
      cause,
    });
  }
  // Simulated fills of decisions whose live signal got no order: the signal's fate says why.
  const signalFate = new Map(liveSignals.map((l) => [key(l.symbol, l.bar_time.getTime()), l]));
  for (const d of decisions) {
    const sim = simulatedFillOf(d.symbol, d.time);
    if (!sim || usedSim.has(sim)) continue;
    usedSim.add(sim);
    const l = signalFate.get(key(d.symbol, d.time));
    const cause = !l
      ? 'no live signal for this decision (see the signal difference)'
      : l.exit_rule !== null
        ? `live trading stored its ${exitRuleText(l.exit_rule)} on this bar instead of this decision (see the signal difference)`
        : l.status === 'skipped' || l.status === 'rejected'
          ? `the live signal was ${l.status}: ${l.status_reason ?? 'no reason recorded'}`
          : l.status === 'new'
            ? 'the live signal has no order yet (place-order has not run, or a halt held it)'
            : 'the live order has no fill';
    out.differences.push({
      kind: 'fill',
      symbol: d.symbol,
      barTime: isoTime(d.time),
      live: null,
      backtest: { side: sim.side, qty: sim.qty, price: sim.price, time: isoTime(sim.time) },
      cause,
    });
  }
  out.differences.sort((a, b) =>
    a.barTime < b.barTime ? -1 : a.barTime > b.barTime ? 1 : a.kind < b.kind ? -1 : 1,
  );
  return out;
}

/**
 * The parity report for [from, to] (ISO instants): every strategy that is or was configured, or only
 * those named.
 */
export async function parityReport(
  sql: Sql,
  opts: { from: string; to: string; strategies?: string[] },
): Promise<ParityReport> {
  const from = Date.parse(opts.from);
  const to = Date.parse(opts.to);
  if (!Number.isFinite(from))
    throw new HttpError(400, 'invalid_input', 'from is not a time', {
      from: 'must be a date or an ISO instant',
    });
  if (!Number.isFinite(to))
    throw new HttpError(400, 'invalid_input', 'to is not a time', { to: 'must be a date or an ISO instant' });
  if (to < from)
    throw new HttpError(400, 'invalid_input', 'to is before from', { to: 'must not be before from' });
  const all = await listStrategies(sql);
  const wanted = opts.strategies;
  if (wanted) {
    const known = new Set(all.map((s) => s.name));
    const i = wanted.findIndex((n) => !known.has(n));
    if (i >= 0)
      throw new HttpError(404, 'not_found', `strategy "${wanted[i]}" not found`, {
        [`strategies.${i}`]: 'not found',
      });
  }
  const chosen = all.filter((s) => !wanted || wanted.includes(s.name));
  const strategies: StrategyParity[] = [];
  for (const s of chosen) strategies.push(await strategyParity(sql, s, from, to));
  return { from: isoTime(from), to: isoTime(to), strategies };
}
