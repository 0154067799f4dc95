/**
 * The runner's HTTP front, laid out like the OpenFaaS gateway:
 *   /function/<name>[/<path>]        synchronous invocation; the function sees /<path>
 *   /async-function/<name>[/<path>]  202 Accepted now, run in the background, result POSTed to X-Callback-Url
 *   /healthz                         gateway health
 *   /api/<path>, /metrics            the `gateway` function, seeing the whole path (as at
 *                                    /function/gateway/api/<path> on faasd). When its module also
 *                                    exports a Web `fetch`, that answers instead, so /api/events
 *                                    streams for as long as the browser holds it (through the
 *                                    template, a stream can only answer in windows).
 *   everything else (GET)            the web UI
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from '@weaver/shared/log';
import { limitFor, tooLarge } from './body.ts';
import type { FunctionHost, Invocation } from './host.ts';
import type { WebUi } from './web.ts';

const API_FUNCTION = 'gateway';

function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined ||
    !Number.isNaN(Number.parseInt(req.headers['content-length'] ?? '', 10))
  );
}

/** Reads the body up to `limit` bytes (null: nobody reads this type, so it is drained and dropped). */
function readBody(req: IncomingMessage, limit: number | null): Promise<Buffer | null> {
  if (!hasBody(req)) {
    req.resume();
    return Promise.resolve(null);
  }
  const declared = Number.parseInt(req.headers['content-length'] ?? '', 10);
  if (limit !== null && declared > limit && !req.headers['content-encoding']) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed || limit === null) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(limit === null ? Buffer.alloc(0) : Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

function route(
  pathname: string,
): { kind: 'sync' | 'async'; fn: string; path: string } | { kind: 'api' } | null {
  const m = /^\/(function|async-function)\/([^/]+)(\/.*)?$/.exec(pathname);
  if (m)
    return { kind: m[1] === 'function' ? 'sync' : 'async', fn: decodeURIComponent(m[2]), path: m[3] ?? '/' };
  if (pathname === '/api' || pathname.startsWith('/api/') || pathname === '/metrics') return { kind: 'api' };
  return null;
}

export function createRunnerServer(host: FunctionHost, web: WebUi, log: Logger): Server {
  const apiFetch = host.fetchHandler(API_FUNCTION);
  const api = apiFetch ? getRequestListener((request) => apiFetch(request)) : undefined;
  const invocation = async (
    req: IncomingMessage,
    fn: string,
    path: string,
    query: string,
  ): Promise<Invocation> => {
    const spec = host.fn(fn);
    const limit = spec ? limitFor(req.headers['content-type'], spec) : null;
    const body = await readBody(req, limit);
    return { method: req.method ?? 'GET', path, query, headers: req.headers, body };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://runner');
    const query = url.search.slice(1);
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('OK');
      return;
    }
    const r = route(url.pathname);
    if (!r) {
      if (req.method === 'GET' || req.method === 'HEAD') return web.serve(url.pathname, req.method, res);
      res
        .writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' })
        .end('method not allowed');
      return;
    }
    if (r.kind === 'api' && api) {
      await api(req, res);
      return;
    }
    const fn = r.kind === 'api' ? API_FUNCTION : r.fn;
    const path = r.kind === 'api' ? url.pathname : r.path;
    let inv: Invocation;
    try {
      inv = await invocation(req, fn, path, query);
    } catch (e) {
      const status = (e as { status?: number }).status ?? 400;
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
      res.end(`${(e as Error).name}: ${(e as Error).message}`);
      return;
    }
    if (r.kind === 'async') {
      if (!host.fn(fn)) {
        res
          .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`error finding function ${fn}`);
        return;
      }
      const callId = (req.headers['x-call-id'] as string | undefined) ?? randomUUID();
      const callback = req.headers['x-callback-url'] as string | undefined;
      res.writeHead(202, { 'x-call-id': callId, 'content-length': 0 }).end();
      void host.invoke(fn, inv, { callId }).then(async (out) => {
        if (out.status >= 400) log.warn({ fn, callId, status: out.status }, 'async invocation failed');
        if (!callback) return;
        try {
          await fetch(callback, {
            method: 'POST',
            body: Uint8Array.from(out.body),
            headers: {
              'content-type': String(out.headers['content-type'] ?? 'application/octet-stream'),
              'x-call-id': callId,
              'x-function-name': fn,
              'x-function-status': String(out.status),
              'x-duration-seconds': (out.ms / 1000).toFixed(6),
            },
          });
        } catch (e) {
          log.warn({ fn, callId, err: (e as Error).message }, 'X-Callback-Url could not be reached');
        }
      });
      return;
    }
    const out = await host.invoke(fn, inv);
    res.writeHead(out.status, { ...out.headers, 'content-length': out.body.length });
    res.end(req.method === 'HEAD' ? undefined : out.body);
  };

  return createServer((req, res) => {
    handle(req, res).catch((e) => {
      log.error({ url: req.url, err: (e as Error).message }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('internal error');
    });
  });
}
