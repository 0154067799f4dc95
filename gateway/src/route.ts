/**
 * One route = one object: method, path, the zod schemas of its params, query, body and answer, and a
 * handler. The app registers it with Hono and the OpenAPI document is generated from the same object, so
 * the validation, the answer's shape and the documentation cannot drift apart.
 */
import { HttpError, invalidInput } from '@weaver/shared/runtime';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { Deps } from './deps.ts';

export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

/** What a handler gets besides its input: the process's dependencies and the Hono context. */
export interface RouteContext {
  deps: Deps;
  c: Context;
  /** Who is calling, for the audit of manual actions. */
  actor: string;
  /** Every route of the app (the OpenAPI document lists them). */
  routes: readonly RouteDef[];
}

export interface RouteDef<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  R extends z.ZodType | null = z.ZodType | null,
> {
  method: Method;
  /** Below /api, Hono syntax: `/orders/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Default true: the route needs the API token. */
  auth?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** Schema of the JSON answer; null when the route answers something else (an event stream). */
  response: R;
  /** Success status, default 200. */
  status?: number;
  /** Media type of a non-JSON answer, for the OpenAPI document. */
  produces?: string;
  /**
   * Returns the answer (serialised as JSON with `status`), or a Response built by hand (event streams,
   * JSON assembled by Postgres on hot paths).
   */
  handler(
    input: RouteInput<P, Q, B>,
    ctx: RouteContext,
  ): Promise<(R extends z.ZodType ? z.output<R> : never) | Response>;
}

/** Identity with inference: `defineRoute({...})` types the handler's input from the schemas. */
export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends z.ZodType | null = null,
>(def: RouteDef<P, Q, B, R>): RouteDef {
  return def as unknown as RouteDef;
}

export const isMutation = (method: string): boolean =>
  method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';

function parseWith(schema: z.ZodType | undefined, value: unknown): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error);
  return parsed.data;
}

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json', {
      body: 'must be application/json',
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'body is not valid JSON', { body: 'is not valid JSON' });
  }
}

/** Validates params, query and body in that order and runs the handler; errors go to the app's onError. */
export function toHonoHandler(route: RouteDef, deps: Deps, routes: readonly RouteDef[]) {
  return async (c: Context): Promise<Response> => {
    const params = parseWith(route.params, c.req.param());
    const query = parseWith(route.query, c.req.query());
    const body = route.body ? parseWith(route.body, await readJson(c)) : undefined;
    const result = await route.handler({ params, query, body } as never, {
      deps,
      c,
      actor: 'api',
      routes,
    });
    // Headers go in with the answer: adding them afterwards would turn @hono/node-server's light
    // Response into a full one, a measurable cost on hot routes.
    if (result instanceof Response) return result;
    if (result === undefined || route.status === 204) return c.body(null, 204, API_HEADERS);
    return c.json(result as object, (route.status ?? 200) as 200, API_HEADERS);
  };
}

/** On every answer: live, private data is never cached by a browser or a proxy, nor sniffed as another type. */
export const API_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** A JSON answer whose text is already built (by Postgres): no parse / stringify round trip. */
export function rawJson(body: string | Uint8Array<ArrayBuffer>, status = 200): Response {
  return new Response(body, {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...API_HEADERS },
  });
}
