/**
 * Whether a symbol can trade now. Stock strategies trade only while their exchange is open; crypto
 * trades around the clock. The venue's clock is asked at most once per minute (and again as soon as
 * the open or close it announced has passed), so a pipeline run over many symbols costs one call.
 */
import { clock } from '../clock/index.ts';
import { isCryptoSymbol } from './symbols.ts';
import type { ExchangeAdapter, MarketClock } from './types.ts';

export interface MarketHours {
  open: boolean;
  /** Why it is closed, for the signal's status reason. */
  reason: string | null;
  nextOpen: string | null;
}

const CLOCK_TTL_MS = 60_000;
const cache = new WeakMap<object, { clock: MarketClock; fetchedAt: number }>();

async function venueClock(adapter: ExchangeAdapter, now: number): Promise<MarketClock> {
  const hit = cache.get(adapter);
  if (hit) {
    const boundary = Math.min(
      hit.clock.nextOpen ? Date.parse(hit.clock.nextOpen) : Number.POSITIVE_INFINITY,
      hit.clock.nextClose ? Date.parse(hit.clock.nextClose) : Number.POSITIVE_INFINITY,
    );
    if (now - hit.fetchedAt < CLOCK_TTL_MS && now < boundary) return hit.clock;
  }
  const c = await adapter.getClock();
  cache.set(adapter, { clock: c, fetchedAt: now });
  return c;
}

/** Whether `symbol` trades on `adapter` at this moment. */
export async function marketHoursFor(
  adapter: ExchangeAdapter,
  symbol: string,
  now = clock().now(),
): Promise<MarketHours> {
  if (adapter.capabilities.alwaysOpen || isCryptoSymbol(symbol))
    return { open: true, reason: null, nextOpen: null };
  const c = await venueClock(adapter, now);
  if (c.isOpen) return { open: true, reason: null, nextOpen: null };
  return {
    open: false,
    reason: `market closed${c.nextOpen ? ` until ${c.nextOpen}` : ''}`,
    nextOpen: c.nextOpen,
  };
}

/** Forget cached clocks (tests that move a venue's time). */
export function forgetMarketClock(adapter: ExchangeAdapter): void {
  cache.delete(adapter);
}
