/**
 * The Weaver API: a Hono app under /api. Served three ways with the same code:
 * - as the OpenFaaS function `gateway` (handler.ts adapts the node template's event/context);
 * - by the local runner and the benchmark through @hono/node-server (`gateway.fetch`);
 * - in tests through either.
 * Whatever precedes `/api` in the path (`/function/gateway` on faasd) is ignored, so the same routes
 * answer at /api/… locally and at /function/gateway/api/… behind the OpenFaaS gateway.
 */
import { metricsResponse } from '@weaver/shared/metrics';
import { HttpError } from '@weaver/shared/runtime';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { authenticate } from './auth.ts';
import { API_BASE_PATH } from './base.ts';
import { createDeps, type Deps, type DepsOverrides } from './deps.ts';
import { errorResponse } from './errors.ts';
import { closeEventStreams } from './events/stream.ts';
import { isMutation, type RouteDef, toHonoHandler } from './route.ts';
import { accountRoutes } from './routes/account.ts';
import { backtestRoutes, closeBacktestDispatcher } from './routes/backtests.ts';
import { barRoutes } from './routes/bars.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { killSwitchRoutes } from './routes/kill-switch.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { orderRoutes } from './routes/orders.ts';
import { parityRoutes } from './routes/parity.ts';
import { positionRoutes } from './routes/positions.ts';
import { riskLimitRoutes } from './routes/risk-limits.ts';
import { sessionRoutes } from './routes/session.ts';
import { signalRoutes } from './routes/signals.ts';
import { strategyRoutes } from './routes/strategies.ts';
import { systemRoutes } from './routes/system.ts';
import { tradeRoutes } from './routes/trades.ts';

export const API_BASE = API_BASE_PATH;
const BASE_SEGMENT = new RegExp(`${API_BASE}(?=/|$)`);

/** Every route of the API, in the order the OpenAPI document lists them. */
export const ROUTES: readonly RouteDef[] = [
  ...healthRoutes,
  ...sessionRoutes,
  ...accountRoutes,
  ...positionRoutes,
  ...orderRoutes,
  ...tradeRoutes,
  ...signalRoutes,
  ...barRoutes,
  ...strategyRoutes,
  ...backtestRoutes,
  ...parityRoutes,
  ...killSwitchRoutes,
  ...riskLimitRoutes,
  ...systemRoutes,
  ...eventRoutes,
  ...openApiRoutes,
];

/** The caller's address for rate limiting: the socket when served directly, else the nearest proxy's view. */
function clientOf(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  const direct = incoming?.socket?.remoteAddress;
  if (direct) return direct;
  // The OpenFaaS gateway appends the address it saw; earlier entries are whatever the client claimed.
  const forwarded = c.req.header('x-forwarded-for')?.split(',').pop()?.trim();
  return forwarded || c.req.header('x-real-ip') || 'unknown';
}

export interface Gateway {
  app: Hono;
  deps: Deps;
  routes: readonly RouteDef[];
  /** Answers a request whose path is /api/… or …/api/…. */
  fetch(request: Request, env?: unknown): Promise<Response>;
  /** Ends open event streams (clients reconnect elsewhere) and backtest workers; the pool and bus belong to the caller. */
  close(): Promise<void>;
}

export function createGateway(overrides: DepsOverrides = {}): Gateway {
  const deps = createDeps(overrides);
  const app = new Hono();
  const allowed = new Set(deps.env.WEAVER_API_CORS_ORIGINS.map((o) => new URL(o).origin));

  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) =>
    errorResponse(
      c,
      new HttpError(404, 'not_found', `no route ${c.req.method} ${new URL(c.req.url).pathname}`),
    ),
  );

  // Same origin by default: only a configured origin gets CORS headers (and its preflight answered);
  // any other cross-origin browser request gets none, so the browser keeps the answer from the page.
  // Requests without an allowed Origin skip the middleware altogether (it would rebuild every response).
  const grantCors = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowHeaders: ['authorization', 'content-type', 'last-event-id', 'x-correlation-id'],
    allowMethods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    exposeHeaders: ['retry-after'],
    maxAge: 600,
  });
  app.use(`${API_BASE}/*`, (c, next) => {
    const origin = c.req.header('origin');
    return origin && allowed.has(origin) ? grantCors(c, next) : next();
  });
  const limitBody = bodyLimit({
    maxSize: deps.env.WEAVER_API_MAX_BODY_BYTES,
    onError: () => {
      throw new HttpError(
        413,
        'payload_too_large',
        `the body is larger than ${deps.env.WEAVER_API_MAX_BODY_BYTES} bytes`,
        {
          body: `must be at most ${deps.env.WEAVER_API_MAX_BODY_BYTES} bytes`,
        },
      );
    },
  });
  // Reads carry no body; skipping them also keeps @hono/node-server's request light (touching
  // `body` builds a full Request, a measurable share of a hot GET).
  app.use(`${API_BASE}/*`, (c, next) => (isMutation(c.req.method) ? limitBody(c, next) : next()));

  /**
   * Wraps a handler in the token check (when `needsToken`) and the mutation rate limit. A wrong token
   * spends the caller's mutation budget too: guessing stays as slow as changing things.
   */
  const guarded =
    (needsToken: boolean, handle: (c: Context) => Promise<Response>) =>
    async (c: Context): Promise<Response> => {
      const method = c.req.method;
      if (needsToken) {
        try {
          authenticate(
            { method, authorization: c.req.header('authorization'), cookie: c.req.header('cookie') },
            deps.apiToken(),
            Date.now(),
          );
        } catch (err) {
          if (err instanceof HttpError && err.status === 401) deps.limiter.take(clientOf(c));
          throw err;
        }
      }
      if (isMutation(method)) deps.limiter.take(clientOf(c));
      return handle(c);
    };

  // Prometheus' scrape (infra/prometheus) presents the API token: same check, same limiter as /api.
  app.get(
    '/metrics',
    guarded(true, () => metricsResponse(deps.sql())),
  );
  for (const route of ROUTES) {
    app.on(
      route.method.toUpperCase(),
      `${API_BASE}${route.path}`,
      guarded(route.auth !== false, toHonoHandler(route, deps, ROUTES)),
    );
  }

  const fetch = (request: Request, env?: unknown): Promise<Response> => {
    // The common case, a path that starts with /api, is decided on the string without parsing a URL.
    const raw = request.url;
    const pathAt = raw.indexOf('/', raw.indexOf('//') + 2);
    if (pathAt >= 0 && !raw.startsWith(API_BASE, pathAt)) {
      const url = new URL(raw);
      const cut = url.pathname.search(BASE_SEGMENT);
      if (cut > 0) {
        url.pathname = url.pathname.slice(cut);
        const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
        request = new Request(url, {
          method: request.method,
          headers: request.headers,
          body: hasBody ? request.body : null,
          signal: request.signal,
          duplex: 'half',
        } as RequestInit);
      }
    }
    return Promise.resolve(app.fetch(request, env));
  };

  return {
    app,
    deps,
    routes: ROUTES,
    fetch,
    async close() {
      closeEventStreams();
      await closeBacktestDispatcher(deps);
    },
  };
}
