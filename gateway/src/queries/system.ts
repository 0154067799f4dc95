import {
  and,
  type Fields,
  type JsonPage,
  jsonObjectSql,
  jsonPage,
  timeCursor,
  timeKeyed,
} from '@weaver/shared/db';
import type { AuditQuery, FunctionRun, RunsQuery } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { decodeIdCursor, encodeIdCursor } from '../cursor.ts';

const RUN: Fields = [
  ['id', 'id', 'int'],
  ['functionName', 'function_name', 'text'],
  ['correlationId', 'correlation_id', 'text'],
  ['trigger', 'trigger', 'text'],
  ['startedAt', 'started_at', 'time'],
  ['finishedAt', 'finished_at', 'time'],
  ['outcome', 'outcome', 'text'],
  ['statusCode', 'status_code', 'int'],
  ['error', 'error', 'text'],
];

const AUDIT: Fields = [
  ['id', 'id', 'int'],
  ['eventId', 'event_id', 'text'],
  ['type', 'type', 'text'],
  ['correlationId', 'correlation_id', 'text'],
  ['occurredAt', 'occurred_at', 'time'],
  ['payload', 'payload', 'json'],
];

/** Function runs, newest first, keyed by (started_at, id). */
export function listRuns(sql: Sql, q: z.output<typeof RunsQuery>): Promise<JsonPage> {
  const k = timeKeyed(sql, 'started_at', q.cursor);
  const conds = [k.before];
  if (q.function) conds.push(sql`function_name = ${q.function}`);
  if (q.outcome) conds.push(sql`outcome = ${q.outcome}`);
  return jsonPage(sql, {
    limit: q.limit,
    cursor: timeCursor,
    rows: sql`SELECT *, ${k.columns} FROM function_runs WHERE ${and(sql, conds)} ORDER BY ${k.order} LIMIT ${q.limit + 1}`,
    item: jsonObjectSql(RUN),
  });
}

/** The audit log of events, newest first, keyed by id (the order they were recorded). */
export function listAudit(sql: Sql, q: z.output<typeof AuditQuery>): Promise<JsonPage> {
  const conds = [];
  if (q.cursor) conds.push(sql`id < ${decodeIdCursor(q.cursor)}::int8`);
  if (q.type) conds.push(sql`type = ANY(${q.type})`);
  if (q.correlationId) conds.push(sql`correlation_id = ${q.correlationId}`);
  return jsonPage(sql, {
    limit: q.limit,
    cursor: (last) => encodeIdCursor(last.id),
    rows: sql`
      SELECT id, event_id, type, correlation_id, occurred_at, payload, NULL::timestamptz AS keyset_t,
             row_number() OVER (ORDER BY id DESC) AS rn
      FROM events WHERE ${and(sql, conds)} ORDER BY id DESC LIMIT ${q.limit + 1}`,
    item: jsonObjectSql(AUDIT),
  });
}

export interface RunStats {
  lastRun: FunctionRun | null;
  runs24h: number;
  errors24h: number;
  lastError: { at: string; error: string } | null;
}

interface RunRow {
  id: number;
  function_name: string;
  correlation_id: string | null;
  trigger: string | null;
  started_at: Date;
  finished_at: Date | null;
  outcome: FunctionRun['outcome'];
  status_code: number | null;
  error: string | null;
}

const toRun = (r: RunRow): FunctionRun => ({
  id: r.id,
  functionName: r.function_name,
  correlationId: r.correlation_id,
  trigger: r.trigger,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
  outcome: r.outcome,
  statusCode: r.status_code,
  error: r.error,
});

/** Last run, last error and 24-hour counts of each named function plus any other that ran in 24 hours. */
export async function runStats(sql: Sql, names: readonly string[]): Promise<Map<string, RunStats>> {
  const counts = await sql<{ function_name: string; runs: number; errors: number }[]>`
    SELECT function_name, count(*)::int4 AS runs, (count(*) FILTER (WHERE outcome = 'error'))::int4 AS errors
    FROM function_runs WHERE started_at > now() - interval '24 hours' GROUP BY function_name`;
  const all = [...new Set([...names, ...counts.map((c) => c.function_name)])];
  const last = await sql<(RunRow & { kind: 'last' | 'error' })[]>`
    SELECT 'last' AS kind, r.* FROM unnest(${all}::text[]) AS n(name)
      CROSS JOIN LATERAL (SELECT * FROM function_runs WHERE function_name = n.name ORDER BY started_at DESC LIMIT 1) r
    UNION ALL
    SELECT 'error' AS kind, r.* FROM unnest(${all}::text[]) AS n(name)
      CROSS JOIN LATERAL (SELECT * FROM function_runs WHERE function_name = n.name AND outcome = 'error'
                          ORDER BY started_at DESC LIMIT 1) r`;
  const out = new Map<string, RunStats>(
    all.map((n) => [n, { lastRun: null, runs24h: 0, errors24h: 0, lastError: null }]),
  );
  for (const c of counts)
    Object.assign(out.get(c.function_name) as RunStats, { runs24h: c.runs, errors24h: c.errors });
  for (const r of last) {
    const s = out.get(r.function_name) as RunStats;
    if (r.kind === 'last') s.lastRun = toRun(r);
    else s.lastError = { at: r.started_at.toISOString(), error: r.error ?? '' };
  }
  return out;
}
