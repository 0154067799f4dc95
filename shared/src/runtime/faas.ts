/**
 * The handler contract of the official OpenFaaS Node template (node22, HTTP mode, of-watchdog):
 * index.js does `require('./function/handler')` and calls `handler(event, context)`.
 */
export interface FaasEvent {
  /** Parsed by body-parser: an object for JSON, a string for text (or no content-type), a Buffer for raw. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  method: string;
  query: Record<string, unknown>;
  path: string;
}

export interface FaasContext {
  status(code: number): FaasContext;
  headers(values: Record<string, string>): FaasContext;
  succeed(value: unknown): void;
  fail(error: unknown): void;
}

export type FaasHandler = (event: FaasEvent, context: FaasContext) => Promise<unknown>;

/** A response captured from a handler, as the template's index.js would send it. */
export interface FaasResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Calls a handler the way the template does, without HTTP: the value passed to succeed() (or
 * resolved) is the body, status defaults to 200, fail() turns 200 into 500.
 */
export async function invokeHandler(handler: FaasHandler, event: Partial<FaasEvent>): Promise<FaasResponse> {
  let status = 200;
  const headers: Record<string, string> = {};
  let settled: { body: unknown } | undefined;
  const context: FaasContext = {
    status(code) {
      status = code;
      return context;
    },
    headers(values) {
      Object.assign(headers, values);
      return context;
    },
    succeed(value) {
      settled ??= { body: value };
    },
    fail(error) {
      if (status === 200) status = 500;
      settled ??= { body: String(error) };
    },
  };
  const full: FaasEvent = {
    body: event.body ?? '',
    headers: event.headers ?? {},
    method: event.method ?? 'POST',
    query: event.query ?? {},
    path: event.path ?? '/',
  };
  try {
    const result = await handler(full, context);
    return { status, headers, body: settled ? settled.body : result };
  } catch (err) {
    return { status, headers, body: String(err) };
  }
}
