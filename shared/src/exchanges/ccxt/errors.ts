/** CCXT's unified error classes as Weaver's typed ExchangeErrors. */
import {
  AccountSuspended,
  AuthenticationError,
  BadRequest,
  BadSymbol,
  DDoSProtection,
  DuplicateOrderId,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidNonce,
  InvalidOrder,
  NetworkError,
  OperationFailed,
  OrderNotFound,
  PermissionDenied,
  RequestTimeout,
} from 'ccxt';
import { ExchangeError, type ExchangeErrorCode } from '../types.ts';

function codeFor(err: unknown): ExchangeErrorCode {
  // Subclasses before their parents: RequestTimeout and DDoSProtection are NetworkErrors.
  if (err instanceof RequestTimeout) return 'timeout';
  // Too late for the venue (outside Binance's recvWindow): certainly not executed, safe to retry.
  if (
    err instanceof InvalidNonce ||
    (err instanceof Error && /outside of the recvWindow/i.test(err.message))
  ) {
    return 'timeout';
  }
  if (err instanceof DDoSProtection) return 'rate_limited';
  // OperationFailed: the venue could not say what happened (Binance -1001 internal error, 5xx): may
  // have worked, worth retrying — after a lookup, for an order.
  if (err instanceof ExchangeNotAvailable || err instanceof NetworkError || err instanceof OperationFailed) {
    return 'unavailable';
  }
  if (err instanceof DuplicateOrderId) return 'duplicate_client_order_id';
  // Binance answers a reused open client order id with -2010 "Duplicate order sent.", an InvalidOrder.
  if (err instanceof InvalidOrder && /duplicate order/i.test(err.message)) return 'duplicate_client_order_id';
  if (err instanceof InsufficientFunds) return 'insufficient_funds';
  if (err instanceof OrderNotFound) return 'not_found';
  if (err instanceof BadSymbol) return 'unknown_symbol';
  if (
    err instanceof AuthenticationError ||
    err instanceof PermissionDenied ||
    err instanceof AccountSuspended
  )
    return 'auth';
  if (err instanceof InvalidOrder || err instanceof BadRequest) return 'invalid_order';
  return 'unknown';
}

export function toExchangeError(err: unknown, exchangeId: string, what: string): ExchangeError {
  if (err instanceof ExchangeError) return err;
  const code = codeFor(err);
  const message = err instanceof Error ? err.message : String(err);
  // CCXT prefixes the exchange id and often quotes the venue's JSON body; keep the venue's words and
  // code, not the request URL CCXT may append.
  const body = /\{"code":(-?\d+),"msg":"((?:[^"\\]|\\.)*)"\}/.exec(message);
  const venue = body
    ? `${body[2]} (code ${body[1]})`
    : message.replace(new RegExp(`^${exchangeId}\\s*`), '').replace(/\s*https?:\/\/\S+/g, '');
  return new ExchangeError(code, `${exchangeId} ${what}: ${venue || (err as Error).name}`);
}
