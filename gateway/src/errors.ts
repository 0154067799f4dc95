/**
 * Every failure leaves the API as `{ error: { code, message, fields } }`. Known errors keep their
 * status and message; anything unexpected is a 500 with a request id, its details only in the log
 * (an internal message can carry SQL or a venue's answer, which is no business of the browser).
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '@weaver/shared/config';
import { InvalidCursorError } from '@weaver/shared/db';
import { ExchangeError } from '@weaver/shared/exchanges';
import { logger } from '@weaver/shared/log';
import { type ErrorBody, HttpError } from '@weaver/shared/runtime';
import { StrategyLoadError, StrategyParamsError } from '@weaver/shared/strategies';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { RateLimitedError } from './limits.ts';
import { API_HEADERS } from './route.ts';

const EXCHANGE_STATUS: Record<string, number> = {
  insufficient_funds: 422,
  invalid_order: 422,
  duplicate_client_order_id: 409,
  not_found: 404,
  unknown_symbol: 422,
  market_closed: 409,
  rate_limited: 503,
  unavailable: 503,
  timeout: 504,
  auth: 502,
  unknown: 502,
};

/** Maps any thrown value to a status and the one error body. */
export function toErrorAnswer(err: unknown): {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
} {
  if (err instanceof RateLimitedError) {
    return { status: 429, body: err.toBody(), headers: { 'retry-after': String(err.retryAfterSec) } };
  }
  if (err instanceof HttpError) return { status: err.status, body: err.toBody() };
  if (err instanceof ExchangeError) {
    return {
      status: EXCHANGE_STATUS[err.code] ?? 502,
      body: { error: { code: `exchange_${err.code}`, message: err.message, fields: {} } },
    };
  }
  if (err instanceof StrategyParamsError) {
    return {
      status: 400,
      body: { error: { code: 'invalid_input', message: err.message, fields: err.fields } },
    };
  }
  if (err instanceof InvalidCursorError) {
    return {
      status: 400,
      body: {
        error: {
          code: 'invalid_input',
          message: `invalid input: cursor: ${err.message}`,
          fields: { cursor: err.message },
        },
      },
    };
  }
  if (err instanceof StrategyLoadError) {
    return {
      status: 422,
      body: { error: { code: 'strategy_unavailable', message: err.message, fields: { module: err.reason } } },
    };
  }
  if (err instanceof ConfigError) {
    return {
      status: 500,
      body: { error: { code: 'config_invalid', message: err.message, fields: err.fields } },
    };
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 413 ? 'payload_too_large' : status === 401 ? 'unauthorized' : `http_${status}`;
    const fields: Record<string, string> = status === 413 ? { body: 'is too large' } : {};
    return { status, body: { error: { code, message: err.message || `HTTP ${status}`, fields } } };
  }
  const requestId = randomUUID();
  logger().error(
    { requestId, err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
    'api request failed',
  );
  return {
    status: 500,
    body: {
      error: {
        code: 'internal',
        message: `internal error (request ${requestId}; see the gateway log)`,
        fields: {},
      },
    },
  };
}

export function errorResponse(c: Context, err: unknown): Response {
  const { status, body, headers } = toErrorAnswer(err);
  return c.json(body, status as 400, { ...API_HEADERS, ...headers });
}
