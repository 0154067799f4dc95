/**
 * fetch-bars: for each enabled strategy's (exchange, timeframe, symbols), download the bars completed
 * since the newest stored one (the history download's code: `downloadRecent`), then ask the exchange
 * about our open orders (new bars are when simulated orders fill) and announce what changed.
 */
import { createHash } from 'node:crypto';
import { clock } from '../clock/index.ts';
import { listStrategies } from '../db/index.ts';
import { defaultExchangeName, getExchange } from '../exchanges/configured.ts';
import { downloadRecent } from '../market-data/download.ts';
import { HttpError } from '../runtime/errors.ts';
import type { StrategyConfig, Timeframe } from '../schemas/index.ts';
import { errorMessage, logOf, type PipelineContext, publish } from './context.ts';
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
  /** Bars the venue sent that failed validation (not stored), when there were any. */
  rejected?: number;
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
      // The same download as `weaver fetch-history`: validated bars, COPY, coverage recorded, bars
      // still forming left for the next run.
      const downloaded = await downloadRecent({
        sql: ctx.sql,
        exchange: g.exchange,
        adapter: await getExchange(g.exchange),
        symbols,
        timeframe: g.timeframe,
        initialBars: INITIAL_BARS,
        maxBars: MAX_CATCH_UP_BARS,
        now: clock().now(),
        log,
      });
      result.bars = downloaded.written;
      if (downloaded.rejected > 0) result.rejected = downloaded.rejected;
      const latest = Math.max(
        ...downloaded.symbols.filter((d) => d.written > 0 && d.through).map((d) => Date.parse(d.through!)),
      );
      if (Number.isFinite(latest)) result.latest = new Date(latest).toISOString();
      const failed = downloaded.symbols.filter((d) => d.error);
      if (failed.length) result.error = failed.map((d) => `${d.symbol}: ${d.error}`).join('; ');
      if (failed.length === symbols.length) continue;
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
