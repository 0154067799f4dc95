import { createHash, timingSafeEqual } from 'node:crypto';
import type { Sql } from 'postgres';
import { secrets } from '../config/index.ts';
import { db } from '../db/client.ts';
import { collect } from './collect.ts';
import { CONTENT_TYPE, render } from './exposition.ts';

export * from './catalogue.ts';
export { COLLECTORS, collect } from './collect.ts';
export * from './counters.ts';
export * from './exposition.ts';

/** Weaver's series as Prometheus exposition text, read from the database now. */
export async function metricsText(sql: Sql = db()): Promise<string> {
  return render(await collect(sql));
}

const digest = (v: string): Buffer => createHash('sha256').update(v, 'utf8').digest();

function refuse(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message, fields: {} } }), {
    status,
    headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="weaver"' },
  });
}

/**
 * The gateway's `GET /metrics` answer (a Fetch Response, so any router can return it). Equity and P&L are
 * private: the scrape presents the API token (secret weaver-api-token) as `Authorization: Bearer`, which
 * Prometheus sends from a credentials file (infra/prometheus/prometheus.yml).
 */
export async function metricsResponse(authorization: string | undefined, sql?: Sql): Promise<Response> {
  const token = secrets().apiToken?.reveal();
  if (!token)
    return refuse(503, 'not_configured', 'no API token is configured: create the secret weaver-api-token');
  const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  if (!timingSafeEqual(digest(presented), digest(token))) {
    return refuse(401, 'unauthorized', 'send the API token as Authorization: Bearer <token>');
  }
  return new Response(await metricsText(sql ?? db()), {
    headers: { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' },
  });
}
