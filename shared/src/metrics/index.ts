import type { Sql } from 'postgres';
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

/**
 * The gateway's `GET /metrics` answer (a Fetch Response, so any router can return it). Equity and P&L are
 * private: the gateway checks the API token first, with the same check and rate limiter as its other
 * routes (Prometheus sends the token from a credentials file, infra/prometheus/prometheus.yml).
 */
export async function metricsResponse(sql: Sql = db()): Promise<Response> {
  return new Response(await metricsText(sql), {
    headers: { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' },
  });
}
