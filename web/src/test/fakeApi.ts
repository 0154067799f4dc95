/**
 * A small in-memory stand-in for the gateway, for component tests only (the end-to-end tests run against the
 * real gateway). Each answer is checked against the zod schema the real route answers with, so the fake
 * cannot drift from the contract in shared/src/schemas/api.ts.
 */
import { afterEach, vi } from 'vitest';
import type { z } from 'zod';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

const REPLY = Symbol('reply');
/** A non-default answer: an error status, 204, 201… */
export interface Reply {
  [REPLY]: true;
  status: number;
  body?: unknown;
  /** Sent as is (an event stream), not as JSON. */
  raw?: ReadableStream<Uint8Array>;
}
export function reply(status: number, body?: unknown): Reply {
  return { [REPLY]: true, status, body };
}
/** An event stream held open, as the gateway's is; the test pushes messages into it. */
export function eventStream(): { reply: Reply; push: (text: string) => void } {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const raw = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    reply: { [REPLY]: true, status: 200, raw },
    push: (text) => controller?.enqueue(new TextEncoder().encode(text)),
  };
}
export function apiError(
  status: number,
  code: string,
  message: string,
  fields: Record<string, string> = {},
): Reply {
  return reply(status, { error: { code, message, fields } });
}
const isReply = (v: unknown): v is Reply => typeof v === 'object' && v !== null && REPLY in v;

type Handler = (
  req: FakeRequest,
) => Promise<{ status: number; body?: unknown; raw?: ReadableStream<Uint8Array> }>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export class FakeApi {
  readonly calls: FakeRequest[] = [];
  private readonly routes: Route[] = [];

  /** `path` may contain `:param` segments; the handler's answer body is validated with `schema`. */
  on<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S | null,
    handler: (
      req: FakeRequest & { params: Record<string, string> },
    ) => z.input<S> | Reply | undefined | Promise<z.input<S> | Reply | undefined>,
  ): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/:([a-zA-Z]+)/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    this.routes.unshift({
      method,
      pattern,
      handler: async (req) => {
        const m = pattern.exec(req.path);
        const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m?.[i + 1] ?? '')]));
        const out = await handler({ ...req, params });
        if (isReply(out)) return { status: out.status, body: out.body, raw: out.raw };
        if (out === undefined) return { status: 204 };
        // The fake answers only what the real route's schema accepts.
        if (schema) schema.parse(out);
        return { status: 200, body: out };
      },
    });
    return this;
  }

  /** Replaces global fetch for the current test. */
  install(): this {
    const fake = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
      const url = new URL(typeof input === 'string' ? input : input.toString(), 'http://localhost/');
      const method = (init.method ?? 'GET').toUpperCase();
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
      const req: FakeRequest = { method, path: url.pathname, query: url.searchParams, headers, body };
      this.calls.push(req);
      const route = this.routes.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (!route) {
        return json(404, {
          error: { code: 'not_found', message: `no fake route for ${method} ${url.pathname}`, fields: {} },
        });
      }
      const answer = await route.handler(req);
      if (answer.raw) {
        // Aborting the request (the client stopping its stream) ends the body, as a socket close would.
        const reader = answer.raw.getReader();
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            const { value, done } = await reader.read();
            if (done) c.close();
            else c.enqueue(value);
          },
          cancel: () => reader.cancel(),
        });
        init.signal?.addEventListener('abort', () => void reader.cancel());
        return new Response(body, {
          status: answer.status,
          headers: { 'content-type': 'text/event-stream' },
        });
      }
      return answer.status === 204 ? new Response(null, { status: 204 }) : json(answer.status, answer.body);
    };
    vi.stubGlobal('fetch', vi.fn(fake));
    return this;
  }

  callsTo(method: string, path: string): FakeRequest[] {
    return this.calls.filter((c) => c.method === method && c.path === path);
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
});
