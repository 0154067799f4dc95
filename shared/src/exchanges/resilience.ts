/**
 * Retrying venue calls without ever doubling an order.
 *
 * Reads are idempotent and simply retried on 429 / 5xx / network faults with exponential backoff and
 * full jitter (a venue's Retry-After is honoured as a floor). Order submission is not idempotent: a
 * submit whose answer was lost (timeout, dropped connection, 5xx) may or may not have reached the
 * venue, so before any retry the order is looked up by its client_order_id and, when found, returned
 * instead of sent again. A venue that rejects the client id as a duplicate is answered the same way.
 */
import { DelegateBackoff, handleWhen, type IRetryBackoffContext, type RetryPolicy, retry } from 'cockatiel';
import { ExchangeError } from './types.ts';

export interface RetryOptions {
  /** Retries after the first attempt. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxRetries: 5, initialDelayMs: 250, maxDelayMs: 8_000 };

/** The longest a venue's Retry-After / rate-limit reset is waited for before a retry. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** An ExchangeError that carries the venue's Retry-After, in ms. */
export type RetryAfterError = ExchangeError & { retryAfterMs?: number };

export function withRetryAfter(err: ExchangeError, ms: number | undefined): RetryAfterError {
  if (ms !== undefined && Number.isFinite(ms) && ms > 0) (err as RetryAfterError).retryAfterMs = ms;
  return err;
}

const isRetryable = (e: Error): boolean => e instanceof ExchangeError && e.retryable;

/** Delay before retry `attempt` (1-based): full jitter over an exponential ceiling, Retry-After as a floor. */
export function retryDelay(
  o: RetryOptions,
  attempt: number,
  err?: unknown,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  const after = Math.min((err as RetryAfterError | undefined)?.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
  return Math.max(jittered, after);
}

export interface RetryEvent {
  /** What was being done, e.g. `submit AAPL-123`. */
  what: string;
  attempt: number;
  delayMs: number;
  error: string;
  code: string;
}

/** A cockatiel retry policy over retryable ExchangeErrors (rate_limited, unavailable, timeout). */
export function retryPolicy(
  o: RetryOptions = DEFAULT_RETRY,
  what = 'call',
  onRetry?: (e: RetryEvent) => void,
): RetryPolicy {
  const policy = retry(handleWhen(isRetryable), {
    maxAttempts: o.maxRetries,
    backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) =>
      retryDelay(o, ctx.attempt, 'error' in ctx.result ? ctx.result.error : undefined),
    ),
  });
  if (onRetry) {
    policy.onRetry((r) => {
      const err = 'error' in r ? r.error : undefined;
      onRetry({
        what,
        attempt: r.attempt,
        delayMs: r.delay,
        error: err instanceof Error ? err.message : 'retry',
        code: err instanceof ExchangeError ? err.code : 'unknown',
      });
    });
  }
  return policy;
}

/** Runs an idempotent venue call, retrying retryable ExchangeErrors with backoff and jitter. */
export function withRetries<T>(
  o: RetryOptions,
  what: string,
  fn: () => Promise<T>,
  onRetry?: (e: RetryEvent) => void,
): Promise<T> {
  return retryPolicy(o, what, onRetry).execute(fn);
}

export interface SubmitOnce<T> {
  what: string;
  retry: RetryOptions;
  onRetry?: (e: RetryEvent) => void;
  /** Sends the order once (the transport must not retry it on its own). */
  submit(): Promise<T>;
  /** The venue's order with our client_order_id, or null when it has none. */
  lookup(): Promise<T | null>;
  /**
   * Whether an order found under our client_order_id is the one being submitted. One that is not (a
   * different symbol, side or size) means the id was reused: that is a duplicate_client_order_id error,
   * not a success.
   */
  matches(existing: T): boolean;
  /**
   * Runs before a lookup that follows a failed attempt. Venues where a request still in flight may
   * land after the lookup (Binance, whose client ids are unique among open orders only) wait here
   * until such a request can no longer be accepted.
   */
  settle?(lastError: unknown): Promise<void>;
}

/**
 * Submits an order so that retries can never double it. Every attempt after the first starts with a
 * lookup by client_order_id; only a lookup that answered "no such order" lets the submit go out again.
 * A lookup that itself fails is retried by the same policy, still before any new submit. A duplicate
 * client_order_id rejection means an earlier attempt (or an earlier run) landed: the existing order is
 * returned when it is this order.
 */
export async function submitWithoutDuplicates<T>(s: SubmitOnce<T>): Promise<T> {
  let attempts = 0;
  const found = (existing: T): T => {
    if (!s.matches(existing)) {
      throw new ExchangeError(
        'duplicate_client_order_id',
        `${s.what}: the venue already has a different order with this client_order_id`,
        422,
      );
    }
    return existing;
  };
  let lastError: unknown;
  return retryPolicy(s.retry, s.what, s.onRetry).execute(async () => {
    if (attempts++ > 0) {
      await s.settle?.(lastError);
      const existing = await s.lookup();
      if (existing) return found(existing);
    }
    try {
      return await s.submit();
    } catch (err) {
      lastError = err;
      if (err instanceof ExchangeError && err.code === 'duplicate_client_order_id') {
        const existing = await s.lookup();
        if (existing) return found(existing);
      }
      throw err;
    }
  });
}
