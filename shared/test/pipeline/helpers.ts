/** Shared by the pipeline and function tests: clock control, hand-made bars, strategies and counts. */
import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { expect } from 'vitest';
import { type Bus, MemoryBus, setBus } from '../../src/bus/index.ts';
import { upsertBars, upsertStrategy } from '../../src/db/index.ts';
import { getExchange, resetExchanges, setExchange } from '../../src/exchanges/configured.ts';
import type { PipelineContext } from '../../src/pipeline/index.ts';
import { type FaasHandler, invokeHandler } from '../../src/runtime/index.ts';
import type { Bar, EventEnvelope, StrategyConfig, Timeframe } from '../../src/schemas/index.ts';

export const MIN = 60_000;

/** Sets the process clock (clock() re-reads WEAVER_CLOCK on every call) to `ms`, then running at 1x. */
export function setClock(ms: number): void {
  process.env.WEAVER_CLOCK = `${Math.round(ms)}@${Date.now()}x1`;
}

export function clearClock(): void {
  delete process.env.WEAVER_CLOCK;
}

export function bar(symbol: string, time: number, close: number, opts: Partial<Bar> = {}): Bar {
  const open = opts.open ?? close;
  return {
    symbol,
    timeframe: '1Min',
    time: new Date(time).toISOString(),
    open,
    high: opts.high ?? Math.max(open, close) + 0.5,
    low: opts.low ?? Math.min(open, close) - 0.5,
    close,
    volume: opts.volume ?? 10_000,
  };
}

/** Bars at t0, t0+1m, … with the given closes (open = previous close). */
export function barsFrom(symbol: string, t0: number, closes: readonly number[]): Bar[] {
  return closes.map((c, i) => bar(symbol, t0 + i * MIN, c, { open: i === 0 ? c : closes[i - 1] }));
}

export async function storeBars(sql: Sql, bars: Bar[]): Promise<void> {
  await upsertBars(sql, bars);
}

export async function makeStrategy(
  sql: Sql,
  s: Partial<StrategyConfig> & { name: string; symbols: string[] },
): Promise<StrategyConfig> {
  return upsertStrategy(sql, {
    module: 'sma-crossover',
    params: { fast: 2, slow: 4 },
    enabled: true,
    timeframe: '1Min' as Timeframe,
    exchange: 'sim',
    sizing: { type: 'fixed_qty', qty: '10' },
    allowShort: false,
    ...s,
  });
}

/**
 * Closes that make SMA(2)/SMA(4) cross up on the last bar and not before: flat, a dip, then a jump.
 * 9 bars: the crossover's BUY comes on index 8.
 */
export const CROSS_UP = [100, 100, 100, 100, 100, 99, 98, 98, 104];
/** Appended to CROSS_UP: SMA(2) crosses back under SMA(4) on the last bar (and not before). */
export const CROSS_DOWN_AFTER = [105, 106, 100];

/** A private in-process bus that records every envelope published (for pipeline-level tests). */
export class RecordingBus extends MemoryBus {
  readonly published: EventEnvelope[] = [];
  constructor() {
    super(`t${randomBytes(4).toString('hex')}`);
  }
  override async publish(envelope: EventEnvelope) {
    this.published.push(envelope);
    return super.publish(envelope);
  }
  ofType(type: string): EventEnvelope[] {
    return this.published.filter((e) => e.type === type);
  }
}

export function pipelineContext(sql: Sql, bus: Bus, correlationId = 'test'): PipelineContext {
  return { sql, bus: async () => bus, correlationId };
}

/** Makes `bus` the process's bus (what defineFunction hands a run) and forgets cached exchanges. */
export async function useBus(bus: Bus): Promise<void> {
  setBus(bus);
  await resetExchanges();
}

export async function count(sql: Sql, table: string, where = 'TRUE'): Promise<number> {
  const [r] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`);
  return r.n as number;
}

/** Counts of every domain table a function could write (what bad input must leave untouched). */
export async function domainCounts(sql: Sql): Promise<Record<string, number>> {
  const tables = [
    'bars',
    'signals',
    'orders',
    'order_status_history',
    'fills',
    'trades',
    'positions',
    'account_snapshots',
    'trading_halts',
    'strategy_cursors',
    'events',
    'sim_orders',
    'sim_fills',
  ];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = await count(sql, t);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a truthy value or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(everyMs);
  }
}

/**
 * Makes the process's `sim` the real simulated exchange wrapped to count submitOrder calls: the venue
 * itself refuses a repeated client order id, so "one order at the exchange" alone cannot show that
 * Weaver never tried twice.
 */
export async function countingSim(): Promise<{ submits: () => number }> {
  await resetExchanges();
  const real = await getExchange('sim');
  let submits = 0;
  const counting = Object.create(real) as typeof real;
  counting.submitOrder = (intent) => {
    submits++;
    return real.submitOrder(intent);
  };
  setExchange('sim', counting);
  return { submits: () => submits };
}

export interface ErrorAnswer {
  error: { code: string; message: string; fields: Record<string, string> };
}

/**
 * Invokes a function as the template would with a bad body and checks the answer: the status, a field
 * named in `fields` (exactly, or a key starting with `field`), and no domain row written.
 */
export async function expectRejected(
  sql: Sql,
  handler: FaasHandler,
  body: unknown,
  status: number,
  field: string,
): Promise<ErrorAnswer> {
  const before = await domainCounts(sql);
  const res = await invokeHandler(handler, { body, headers: { 'content-type': 'application/json' } });
  const answer = res.body as ErrorAnswer;
  expect(res.status, JSON.stringify(answer)).toBe(status);
  const keys = Object.keys(answer.error.fields);
  expect(
    keys.some((k) => k === field || k.startsWith(`${field}.`)),
    `fields ${keys.join(', ')} should name ${field}`,
  ).toBe(true);
  expect(await domainCounts(sql)).toEqual(before);
  return answer;
}

/** A JSON body well over the template's 100 kB default. */
export const HUGE_BODY = { padding: 'x'.repeat(150 * 1024) };
