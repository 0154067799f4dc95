/**
 * The SDK's errors as Weaver's typed ExchangeErrors. The SDK ships its classes twice (ESM and CJS
 * builds), so errors are recognised by shape (`status`, `name`), not `instanceof`.
 */
import { withRetryAfter } from '../resilience.ts';
import { ExchangeError, type ExchangeErrorCode } from '../types.ts';

interface SdkApiError {
  name: string;
  status: number;
  code?: number | string;
  message: string;
  retryAfterMs?: number;
}

const isApiError = (e: unknown): e is SdkApiError =>
  e instanceof Error && typeof (e as { status?: unknown }).status === 'number';

/** What the call was about, so a 404 or 403 gets the right meaning. */
export type CallKind = 'order' | 'submit' | 'asset' | 'data' | 'account';

function codeFor(status: number, message: string, kind: CallKind): ExchangeErrorCode {
  const m = message.toLowerCase();
  switch (true) {
    case status === 401:
      return 'auth';
    case status === 403:
      // Alpaca answers 403 for buying power / available qty on orders, and for data plans and keys.
      if (/buying power|insufficient|qty available|not enough/.test(m)) return 'insufficient_funds';
      if (kind === 'submit')
        return /short|not allowed|not permitted/.test(m) ? 'invalid_order' : 'insufficient_funds';
      return 'auth';
    case status === 404:
      return kind === 'asset' ? 'unknown_symbol' : 'not_found';
    case status === 422 || status === 400:
      if (/client_order_id must be unique|duplicate/.test(m)) return 'duplicate_client_order_id';
      if (kind === 'submit' && /asset .*not found|invalid symbol|not tradable/.test(m))
        return 'unknown_symbol';
      return 'invalid_order';
    case status === 408:
      return 'timeout';
    case status === 429:
      return 'rate_limited';
    case status >= 500:
      return 'unavailable';
    default:
      return 'unknown';
  }
}

/** Any error thrown by an SDK call, as an ExchangeError whose message says what the venue said. */
export function toExchangeError(err: unknown, kind: CallKind, what: string): ExchangeError {
  if (err instanceof ExchangeError) return err;
  if (isApiError(err)) {
    const code = codeFor(err.status, err.message, kind);
    const e = new ExchangeError(code, `alpaca ${what}: ${err.message} (HTTP ${err.status})`, err.status);
    // The SDK derives retryAfterMs from Retry-After or, failing that, X-RateLimit-Reset, which every
    // answer carries: only a 429 means "wait until then".
    return err.status === 429 ? withRetryAfter(e, err.retryAfterMs) : e;
  }
  if (err instanceof Error && err.name === 'FetchError') {
    const cause = (err as Error & { cause?: Error }).cause;
    const timedOut = cause?.name === 'TimeoutError' || /timed? ?out/i.test(cause?.message ?? '');
    return new ExchangeError(
      timedOut ? 'timeout' : 'unavailable',
      `alpaca ${what}: ${timedOut ? 'no answer in time' : `network error (${cause?.message ?? err.message})`}`,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ExchangeError('unknown', `alpaca ${what}: ${message}`);
}
