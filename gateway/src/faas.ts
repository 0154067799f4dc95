/**
 * The OpenFaaS node template's handler contract (event, context) in front of the Hono app: the event
 * becomes a Web Request, the Response goes back through context.status/headers/succeed. The template
 * sends whole bodies, so event streams answer in windows (see events/stream.ts); the request carries
 * `x-weaver-transport: faas` to say so.
 */
import { env } from '@weaver/shared/config';
import { ensureMigrated } from '@weaver/shared/db';
import { type FaasEvent, type FaasHandler, HttpError } from '@weaver/shared/runtime';
import { createGateway, type Gateway } from './app.ts';
import { toErrorAnswer } from './errors.ts';
import { TRANSPORT_HEADER } from './transport.ts';

// Re-serialised below, or meaningless once the template has read the body.
const DROP = new Set(['content-length', 'transfer-encoding', 'connection', TRANSPORT_HEADER]);

function bodyOf(event: FaasEvent): string | Uint8Array<ArrayBuffer> | null {
  const m = event.method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return null;
  const b = event.body;
  if (b === undefined || b === null || b === '') return null;
  if (typeof b === 'string') return b;
  if (b instanceof Uint8Array) return new Uint8Array(b);
  // body-parser already parsed JSON: write it back as the JSON text it came from.
  return JSON.stringify(b);
}

export function toRequest(event: FaasEvent): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    if (v === undefined || DROP.has(k.toLowerCase())) continue;
    headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  headers.set(TRANSPORT_HEADER, 'faas');
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(event.query ?? {})) {
    if (Array.isArray(v)) for (const x of v) query.append(k, String(x));
    else if (v !== undefined && v !== null) query.append(k, String(v));
  }
  const qs = query.toString();
  const host = headers.get('host') ?? 'gateway';
  const path = event.path?.startsWith('/') ? event.path : `/${event.path ?? ''}`;
  return new Request(`http://${host}${path}${qs ? `?${qs}` : ''}`, {
    method: event.method.toUpperCase(),
    headers,
    body: bodyOf(event),
  });
}

/** The function's handler. The app is built on the first call, so a bad setting is answered, not thrown at import. */
export function createFaasHandler(make: () => Gateway = () => createGateway()): FaasHandler {
  let gateway: Gateway | undefined;
  return async (event, context) => {
    let status: number;
    let headers: Record<string, string>;
    let text: string;
    try {
      gateway ??= make();
      // Deployed, the gateway may be the first function to start after a release: migrate on cold start.
      if (env().WEAVER_AUTO_MIGRATE) await ensureMigrated(gateway.deps.sql());
      const res = await gateway.fetch(toRequest(event));
      status = res.status;
      headers = {};
      res.headers.forEach((value, key) => {
        if (key !== 'content-length' && key !== 'transfer-encoding') headers[key] = value;
      });
      text = await res.text();
    } catch (err) {
      const answer = toErrorAnswer(
        err instanceof TypeError ? new HttpError(400, 'invalid_request', err.message) : err,
      );
      status = answer.status;
      headers = { 'content-type': 'application/json; charset=utf-8', ...answer.headers };
      text = JSON.stringify(answer.body);
    }
    // One headers() call: the template's context replaces its headers on each call rather than merging.
    context.status(status).headers(headers).succeed(text);
    return text;
  };
}
