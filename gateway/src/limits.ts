/**
 * A token bucket per client for mutations (and failed logins): `burst` requests at once, then `perSec`
 * sustained. In memory, per gateway process: it protects the exchange and the database from a runaway
 * script, not a distributed attack, which the OpenFaaS gateway's own limits are for.
 */
import { HttpError } from '@weaver/shared/runtime';

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_CLIENTS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(
    readonly perSec: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Spends one token of `client`'s bucket; throws 429 (with Retry-After seconds) when it is empty. */
  take(client: string): void {
    const t = this.now();
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= MAX_CLIENTS) this.prune(t);
      b = { tokens: this.burst, at: t };
      this.buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSec);
      b.at = t;
    }
    if (b.tokens < 1) {
      const retry = Math.max(1, Math.ceil((1 - b.tokens) / this.perSec));
      throw new RateLimitedError(retry);
    }
    b.tokens -= 1;
  }

  private prune(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.perSec >= this.burst) this.buckets.delete(k);
    }
    if (this.buckets.size >= MAX_CLIENTS) this.buckets.clear();
  }
}

export class RateLimitedError extends HttpError {
  constructor(readonly retryAfterSec: number) {
    super(429, 'rate_limited', `too many requests; retry in ${retryAfterSec}s`);
  }
}
