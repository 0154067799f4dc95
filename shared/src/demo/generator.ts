/**
 * The demo market: a deterministic, seeded random walk per symbol, computable for any range.
 *
 * A plain random walk needs its whole history to compute one price, and an incremental one gives
 * slightly different floats depending on where a request starts. Instead the log price is built in
 * anchored levels, each a pure function of (seed, symbol, index):
 *
 *   - block anchors every 64 days: independent draws around the symbol's base price (so prices stay in
 *     a realistic band over years instead of drifting to 0 or infinity);
 *   - day anchors: a Brownian bridge between two block anchors, one step per day;
 *   - minute closes: a Brownian bridge between two day anchors, one step per minute.
 *
 * Every bar of every timeframe aggregates the 1-minute path, so 1Min and 1Hour bars agree, the same
 * (symbol, time) always gives the same bar, and a day's path is computed once and cached.
 */
import type { Bar, Timeframe } from '../schemas/index.ts';
import { TIMEFRAME_MS } from '../schemas/index.ts';

export const DEMO_SYMBOLS = ['ACME', 'GLOBEX', 'INITECH'] as const;
export const DEMO_SEED = 1;

const MINUTE = 60_000;
const DAY = 86_400_000;
const MINUTES_PER_DAY = 1440;
const DAYS_PER_BLOCK = 64;
/** Epoch day 4 (1970-01-05) is a Monday: weekly bars start on Mondays, as Alpaca's do. */
const WEEK_OFFSET = 4 * DAY;

export interface SymbolProfile {
  /** Price level the walk returns to over months. */
  basePrice: number;
  /** Annualised volatility of the log price (24/7 minutes). */
  volatility: number;
  /** Typical shares traded per minute. */
  volume: number;
}

const PROFILES: Record<string, SymbolProfile> = {
  ACME: { basePrice: 100, volatility: 0.45, volume: 4000 },
  GLOBEX: { basePrice: 50, volatility: 0.35, volume: 9000 },
  INITECH: { basePrice: 25, volatility: 0.6, volume: 15000 },
};

// 32-bit integer hash (murmur3 finaliser over a running mix): fast, well distributed, reproducible.
function mix(h: number, v: number): number {
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Uniform in (0, 1) from a key of integers. */
function uniform(a: number, b: number, c: number, d: number): number {
  // Indexes can exceed 32 bits (epoch minutes do not, but keep high bits anyway).
  const h = finish(mix(mix(mix(mix(mix(0x9747b28c, a), b), c), d), Math.floor(d / 4294967296)));
  return (h + 0.5) / 4294967296;
}

/** Standard normal from two hashed uniforms (Box–Muller). */
function normal(a: number, b: number, c: number, d: number): number {
  const u1 = uniform(a, b, c, d);
  const u2 = uniform(a ^ 0x5bd1e995, b, c, d);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Profile of a symbol: the known demo ones, or one derived from the name. */
export function profileOf(symbol: string): SymbolProfile {
  const known = PROFILES[symbol];
  if (known) return known;
  const h = finish(hashString(symbol));
  return {
    basePrice: 20 + (h % 180),
    volatility: 0.3 + ((h >>> 8) % 40) / 100,
    volume: 2000 + ((h >>> 16) % 10) * 1000,
  };
}

// Levels of the hash key, so the draws of different levels never coincide.
const L_BLOCK = 1;
const L_DAY = 2;
const L_MINUTE = 3;
const L_WICK_HIGH = 4;
const L_WICK_LOW = 5;
const L_VOLUME = 6;

/** A Brownian bridge from a to b in n steps of standard deviation sigma; out has n + 1 points. */
function bridge(out: Float64Array, a: number, b: number, sigma: number, draw: (i: number) => number): void {
  const n = out.length - 1;
  out[0] = 0;
  for (let i = 1; i <= n; i++) out[i] = out[i - 1] + sigma * draw(i);
  const end = out[n];
  for (let i = 0; i <= n; i++) out[i] = a + out[i] - (i / n) * (end - (b - a));
}

export interface DemoMarketOptions {
  seed?: number;
}

/**
 * The demo market for one seed. Cheap to create; caches recently used day paths. Same seed, same bars.
 */
export class DemoMarket {
  readonly seed: number;
  private readonly blocks = new Map<string, Float64Array>();
  private readonly days = new Map<string, Float64Array>();
  // The last day path used: aggregating a long bar reads the same day 1440 times in a row.
  private last: { symbol: string; day: number; path: Float64Array } | undefined;

  constructor(options: DemoMarketOptions = {}) {
    this.seed = options.seed ?? DEMO_SEED;
  }

  private key(symbol: string): number {
    return mix(hashString(symbol), this.seed);
  }

  private blockAnchor(symbol: string, block: number): number {
    const p = profileOf(symbol);
    return Math.log(p.basePrice) + 0.25 * normal(this.key(symbol), L_BLOCK, 0, block);
  }

  /** Log price at the start of each day of a 64-day block (65 points). */
  private blockPath(symbol: string, block: number): Float64Array {
    const k = `${symbol}|${block}`;
    let path = this.blocks.get(k);
    if (!path) {
      const p = profileOf(symbol);
      const key = this.key(symbol);
      path = new Float64Array(DAYS_PER_BLOCK + 1);
      const base = block * DAYS_PER_BLOCK;
      bridge(
        path,
        this.blockAnchor(symbol, block),
        this.blockAnchor(symbol, block + 1),
        p.volatility / Math.sqrt(365),
        (i) => normal(key, L_DAY, 0, base + i),
      );
      remember(this.blocks, k, path, 64);
    }
    return path;
  }

  private dayAnchor(symbol: string, day: number): number {
    const block = Math.floor(day / DAYS_PER_BLOCK);
    return this.blockPath(symbol, block)[day - block * DAYS_PER_BLOCK];
  }

  /** Log closes of one UTC day's minutes: point i is the close of minute i - 1 (point 0 = previous close). */
  private dayPath(symbol: string, day: number): Float64Array {
    const last = this.last;
    if (last && last.day === day && last.symbol === symbol) return last.path;
    const k = `${symbol}|${day}`;
    let path = this.days.get(k);
    if (!path) {
      const p = profileOf(symbol);
      const key = this.key(symbol);
      path = new Float64Array(MINUTES_PER_DAY + 1);
      const base = day * MINUTES_PER_DAY;
      bridge(
        path,
        this.dayAnchor(symbol, day),
        this.dayAnchor(symbol, day + 1),
        p.volatility / Math.sqrt(365 * MINUTES_PER_DAY),
        (i) => normal(key, L_MINUTE, 0, base + i),
      );
      remember(this.days, k, path, 256);
    }
    this.last = { symbol, day, path };
    return path;
  }

  /** Fills o/h/l/c/v of the 1-minute bar starting at epoch minute m into `out` (prices unrounded). */
  private minute(symbol: string, m: number, out: Float64Array, key: number, p: SymbolProfile): void {
    const day = Math.floor(m / MINUTES_PER_DAY);
    const i = m - day * MINUTES_PER_DAY;
    const path = this.dayPath(symbol, day);
    const sigma = p.volatility / Math.sqrt(365 * MINUTES_PER_DAY);
    const o = path[i];
    const c = path[i + 1];
    const up = Math.abs(normal(key, L_WICK_HIGH, 0, m)) * sigma * 0.6;
    const down = Math.abs(normal(key, L_WICK_LOW, 0, m)) * sigma * 0.6;
    out[0] = Math.exp(o);
    out[1] = Math.exp(Math.max(o, c) + up);
    out[2] = Math.exp(Math.min(o, c) - down);
    out[3] = Math.exp(c);
    // Busier near the day's turn of the clock in New York (14:30 UTC), quieter at night.
    const hour = ((i / 60 + 24 - 14.5) % 24) / 24;
    const session = 0.6 + 0.8 * Math.exp(-((hour - 0.1) ** 2) / 0.02);
    out[4] = Math.max(1, Math.round(p.volume * session * Math.exp(0.5 * normal(key, L_VOLUME, 0, m))));
  }

  /** The bar of `timeframe` starting at `start` (aligned, epoch ms), prices rounded to cents. */
  barAt(symbol: string, timeframe: Timeframe, start: number): Bar {
    const minutes = TIMEFRAME_MS[timeframe] / MINUTE;
    const m0 = Math.floor(start / MINUTE);
    const one = new Float64Array(5);
    const key = this.key(symbol);
    const profile = profileOf(symbol);
    let open = 0;
    let high = 0;
    let low = Number.POSITIVE_INFINITY;
    let close = 0;
    let volume = 0;
    for (let j = 0; j < minutes; j++) {
      this.minute(symbol, m0 + j, one, key, profile);
      if (j === 0) open = one[0];
      if (one[1] > high) high = one[1];
      if (one[2] < low) low = one[2];
      close = one[3];
      volume += one[4];
    }
    const o = cents(open);
    const c = cents(close);
    return {
      symbol,
      timeframe,
      time: new Date(start).toISOString(),
      open: o,
      high: Math.max(cents(high), o, c),
      low: Math.max(0.01, Math.min(cents(low), o, c)),
      close: c,
      volume,
    };
  }

  /** Bars whose start lies in [from, to] (epoch ms, inclusive), ascending. */
  bars(symbol: string, timeframe: Timeframe, from: number, to: number): Bar[] {
    const out: Bar[] = [];
    for (let t = alignUp(from, timeframe); t <= to; t += TIMEFRAME_MS[timeframe]) {
      out.push(this.barAt(symbol, timeframe, t));
    }
    return out;
  }

  /** The newest bar completed at `now` (its interval ended at or before now). */
  latestCompleted(symbol: string, timeframe: Timeframe, now: number): Bar {
    return this.barAt(symbol, timeframe, alignDown(now, timeframe) - TIMEFRAME_MS[timeframe]);
  }
}

function remember<V>(cache: Map<string, V>, key: string, value: V, max: number): void {
  if (cache.size >= max) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}

const cents = (x: number): number => Math.round(x * 100) / 100;

/** Start of the bar of `timeframe` containing `t` (UTC; weeks start on Monday). */
export function alignDown(t: number, timeframe: Timeframe): number {
  const step = TIMEFRAME_MS[timeframe];
  const offset = timeframe === '1Week' ? WEEK_OFFSET : 0;
  return Math.floor((t - offset) / step) * step + offset;
}

/** First bar start at or after `t`. */
export function alignUp(t: number, timeframe: Timeframe): number {
  const down = alignDown(t, timeframe);
  return down === t ? t : down + TIMEFRAME_MS[timeframe];
}

let shared: DemoMarket | undefined;
/** The default demo market (seed DEMO_SEED), shared by the sim exchange and ensureDemo. */
export function demoMarket(seed = DEMO_SEED): DemoMarket {
  if (seed !== DEMO_SEED) return new DemoMarket({ seed });
  shared ??= new DemoMarket();
  return shared;
}
