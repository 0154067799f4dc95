/**
 * fetch-bars: for each enabled strategy's (exchange, timeframe, symbols), fetch the bars completed since
 * the newest stored one, write them with COPY, then ask the exchange about our open orders (new bars are
 * when simulated orders fill) and announce what changed.
 */
import { createHash } from 'node:crypto';
import { clock } from '../clock/index.ts';
import { latestBarTime, listStrategies, upsertBars } from '../db/index.ts';
import { defaultExchangeName, getExchange } from '../exchanges/configured.ts';
import { HttpError } from '../runtime/errors.ts';
import { type Bar, type StrategyConfig, TIMEFRAME_MS, type Timeframe } from '../schemas/index.ts';
import { errorMessage, logOf, mapLimit, type PipelineContext, publish } from './context.ts';
import type { FetchBarsInput } from './inputs.ts';
import { syncOpenOrders } from './record-trades.ts';

/** Bars fetched for a series with nothing stored: enough to warm up any reasonable strategy. */
export const INITIAL_BARS = 500;
/** Most bars one run catches up per series; a longer outage is caught up over several runs. */
export const MAX_CATCH_UP_BARS = 10_000;

export const exchangeOf = (s: Pick<StrategyConfig, 'exchange'>): string =>
  s.exchange ?? defaultExchangeName();

interface Series {
  exchange: string;
  timeframe: Timeframe;
  symbols: Set<string>;
}

export interface FetchBarsGroupResult {
  exchange: string;
  timeframe: Timeframe;
  symbols: string[];
  bars: number;
  latest: string | null;
  error?: string;
}

export interface FetchBarsResult {
  groups: FetchBarsGroupResult[];
  ordersChanged: number;
}

function planSeries(strategies: StrategyConfig[], input: FetchBarsInput): Map<string, Series> {
  const groups = new Map<string, Series>();
  const add = (exchange: string, timeframe: Timeframe, symbol: string): void => {
    const key = `${exchange}|${timeframe}`;
    let g = groups.get(key);
    if (!g) {
      g = { exchange, timeframe, symbols: new Set() };
      groups.set(key, g);
    }
    g.symbols.add(symbol);
  };
  const wanted = input.symbols ? new Set(input.symbols) : null;
  const covered = new Set<string>();
  for (const s of strategies) {
    const exchange = exchangeOf(s);
    if (input.exchange && exchange !== input.exchange) continue;
    if (input.timeframe && s.timeframe !== input.timeframe) continue;
    if (input.strategies && !input.strategies.includes(s.name)) continue;
    for (const symbol of s.symbols) {
      if (wanted && !wanted.has(symbol)) continue;
      add(exchange, s.timeframe, symbol);
      covered.add(symbol);
    }
  }
  // Symbols asked for by name that no strategy trades: fetched on the named (or default) venue.
  for (const symbol of input.symbols ?? []) {
    if (!covered.has(symbol)) add(input.exchange ?? defaultExchangeName(), input.timeframe ?? '1Min', symbol);
  }
  return groups;
}

/** Bars of one series completed after the newest stored one (bounded), ascending. */
async function newBars(ctx: PipelineContext, g: Series, symbol: string, now: number): Promise<Bar[]> {
  const exchange = await getExchange(g.exchange);
  const step = TIMEFRAME_MS[g.timeframe];
  const newest = await latestBarTime(ctx.sql, symbol, g.timeframe);
  // The start of the bar `now` falls in: counting back whole bars from there gives exactly N bars.
  const current = Math.floor(now / step) * step;
  const floor = current - MAX_CATCH_UP_BARS * step;
  const start = Math.max(newest === null ? current - INITIAL_BARS * step : newest + step, floor);
  const out: Bar[] = [];
  if (start > now - step) return out;
  for await (const page of exchange.getBars({
    symbol,
    timeframe: g.timeframe,
    start: new Date(start).toISOString(),
    end: new Date(now).toISOString(),
  })) {
    for (const b of page) {
      const t = Date.parse(b.time);
      // Only completed bars, and none the store already has (a venue may resend the boundary bar).
      if (t + step <= now && (newest === null || t > newest)) out.push(b);
    }
  }
  return out;
}

export async function fetchBars(ctx: PipelineContext, input: FetchBarsInput = {}): Promise<FetchBarsResult> {
  const log = logOf(ctx);
  const strategies = await listStrategies(ctx.sql, { enabled: true });
  const series = planSeries(strategies, input);

  // Names given by the caller must exist at the venue: a typo is a 400, not a silent empty fetch.
  if (input.symbols) {
    const fields: Record<string, string> = {};
    for (const [i, symbol] of input.symbols.entries()) {
      const g = [...series.values()].find((s) => s.symbols.has(symbol));
      if (!g) continue;
      const exchange = await getExchange(g.exchange).catch(() => null);
      if (!exchange) fields.exchange = `unknown exchange "${g.exchange}"`;
      else if (!(await exchange.isTradable(symbol)))
        fields[`symbols.${i}`] = `unknown symbol on ${g.exchange}`;
    }
    if (Object.keys(fields).length) {
      throw new HttpError(
        400,
        'invalid_input',
        `invalid input: ${Object.entries(fields)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ')}`,
        fields,
      );
    }
  }

  const groups: FetchBarsGroupResult[] = [];
  const exchangesSynced = new Set<string>();
  let ordersChanged = 0;
  for (const g of series.values()) {
    const symbols = [...g.symbols].sort();
    const result: FetchBarsGroupResult = {
      exchange: g.exchange,
      timeframe: g.timeframe,
      symbols,
      bars: 0,
      latest: null,
    };
    groups.push(result);
    try {
      const now = clock().now();
      const perSymbol = await mapLimit(symbols, 4, (symbol) => newBars(ctx, g, symbol, now));
      const bars = perSymbol.flat();
      if (bars.length > 0) {
        await upsertBars(ctx.sql, bars);
        result.bars = bars.length;
        result.latest = new Date(Math.max(...bars.map((b) => Date.parse(b.time)))).toISOString();
      }
    } catch (e) {
      result.error = errorMessage(e);
      log.error({ exchange: g.exchange, timeframe: g.timeframe, err: result.error }, 'fetching bars failed');
      continue;
    }
    if (!exchangesSynced.has(g.exchange)) {
      exchangesSynced.add(g.exchange);
      try {
        ordersChanged += (await syncOpenOrders(ctx, { exchange: g.exchange, apply: false })).changed.length;
      } catch (e) {
        log.error({ exchange: g.exchange, err: errorMessage(e) }, 'syncing open orders failed');
      }
    }
    if (result.bars > 0) {
      const digest = createHash('sha256').update(symbols.join(',')).digest('hex').slice(0, 12);
      await publish(
        ctx,
        'bars.fetched',
        { exchange: g.exchange, timeframe: g.timeframe, symbols, count: result.bars, latest: result.latest },
        `bars.fetched:${g.exchange}:${g.timeframe}:${result.latest}:${digest}`,
      );
    }
  }
  return { groups, ordersChanged };
}
