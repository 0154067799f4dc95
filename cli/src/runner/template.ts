/**
 * What the node22 template's index.js does around a handler, so a handler hosted by the runner sees the
 * same event and context as in its image and its answer goes out the same way:
 * - event = { body, headers, method, query, path }; handler(event, context, callback);
 * - context.status(code) / headers(obj) (replaces, not merges) / succeed(value) / fail(err), chainable;
 * - a resolved value is sent when neither succeed nor fail was called;
 * - plain objects and arrays go out as JSON text; other values as Express's res.send would send them
 *   (a string defaults to text/html; a Buffer to application/octet-stream);
 * - fail() turns 200 into 500; a thrown error is sent as text with the current status and without the
 *   headers the handler set.
 */
import type { FaasContext, FaasEvent } from '@weaver/shared/runtime';

export type TemplateHandler = (
  event: FaasEvent,
  context: FaasContext,
  callback: (err: unknown, value?: unknown) => void,
) => unknown;

export interface HandlerResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const isPlainArray = (a: unknown): boolean => !!a && (a as object).constructor === Array;
const isPlainObject = (a: unknown): boolean => !!a && (a as object).constructor === Object;

function hasHeader(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

function setContentType(headers: Record<string, string | string[]>, value: string): void {
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-type') delete headers[k];
  headers['content-type'] = value;
}

const withCharset = (type: string): string => (/;\s*charset=/i.test(type) ? type : `${type}; charset=utf-8`);

/** Express 5's res.send / res.json for one value. */
function send(status: number, set: Record<string, string | string[]>, value: unknown): HandlerResponse {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(set ?? {})) {
    if (v !== undefined && v !== null) headers[k] = Array.isArray(v) ? v.map(String) : String(v);
  }
  const type = hasHeader(headers, 'content-type');
  let body: Buffer;
  if (value === undefined || value === null) {
    body = Buffer.alloc(0);
  } else if (typeof value === 'string') {
    setContentType(headers, withCharset(type ?? 'text/html'));
    body = Buffer.from(value, 'utf8');
  } else if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    if (!type) setContentType(headers, 'application/octet-stream');
    body = Buffer.from(value as Uint8Array);
  } else {
    // res.json: numbers, booleans and non-plain objects
    setContentType(headers, withCharset(type ?? 'application/json'));
    body = Buffer.from(JSON.stringify(value) ?? '', 'utf8');
  }
  return { status, headers, body };
}

/** Calls `handler` exactly as the template's middleware does and returns what Express would send. */
export function runTemplateHandler(handler: TemplateHandler, event: FaasEvent): Promise<HandlerResponse> {
  return new Promise((resolve) => {
    let statusCode = 200;
    let headerValues: Record<string, string | string[]> = {};
    let cbCalled = 0;
    let sent = false;
    const cb = (err: unknown, result?: unknown): void => {
      if (sent) return; // Express would throw "headers already sent"; the first answer stands
      sent = true;
      if (err) {
        const e = err as { toString?: () => string };
        resolve(send(statusCode, {}, typeof e.toString === 'function' ? e.toString() : err));
        return;
      }
      if (isPlainArray(result) || isPlainObject(result)) {
        resolve(send(statusCode, headerValues, JSON.stringify(result)));
      } else {
        resolve(send(statusCode, headerValues, result));
      }
    };
    const context = {
      status(code?: number) {
        if (!code) return statusCode;
        statusCode = code;
        return context;
      },
      headers(value?: Record<string, string>) {
        if (!value) return headerValues;
        headerValues = value;
        return context;
      },
      succeed(value: unknown) {
        cbCalled++;
        cb(undefined, value);
      },
      fail(value: unknown) {
        if (statusCode === 200) statusCode = 500;
        cbCalled++;
        cb(value);
      },
    } as unknown as FaasContext;
    Promise.resolve()
      .then(() => handler(event, context, cb))
      .then((res) => {
        if (!cbCalled) context.succeed(res);
      })
      .catch((e) => cb(e));
  });
}
