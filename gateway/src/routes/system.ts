import { jetstreamManager } from '@nats-io/jetstream';
import { type Bus, NatsBus } from '@weaver/shared/bus';
import { activeHalts, pageBody } from '@weaver/shared/db';
import {
  AuditPage,
  AuditQuery,
  type FunctionHealth,
  RunPage,
  RunsQuery,
  SystemStatus,
} from '@weaver/shared/schemas';
import { Cron } from 'croner';
import type { Sql } from 'postgres';
import { listAudit, listRuns, type RunStats, runStats } from '../queries/system.ts';
import { defineRoute, rawJson } from '../route.ts';
import { type FunctionWiring, findStackFile, readWiring } from '../stack.ts';

const STATUS_TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} did not answer within ${STATUS_TIMEOUT_MS} ms`)),
        STATUS_TIMEOUT_MS,
      );
    }),
  ]);
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function databaseStatus(sql: Sql): Promise<SystemStatus['database']> {
  const t0 = performance.now();
  try {
    const [row] = await within(
      sql<{ v: string }[]>`SELECT current_setting('server_version') AS v`,
      'PostgreSQL',
    );
    return {
      ok: true,
      latencyMs: Math.round((performance.now() - t0) * 100) / 100,
      version: row.v,
      error: null,
    };
  } catch (err) {
    return { ok: false, latencyMs: null, version: null, error: message(err) };
  }
}

async function busStatus(bus: Bus): Promise<SystemStatus['bus']> {
  if (!(bus instanceof NatsBus)) return { mode: 'memory', ok: true, rttMs: null, stream: null, error: null };
  try {
    const rtt = await within(bus.nc.rtt(), 'NATS');
    const jsm = await jetstreamManager(bus.nc);
    const info = await within(jsm.streams.info(bus.stream), 'JetStream');
    return {
      mode: 'nats',
      ok: true,
      rttMs: rtt,
      stream: {
        name: bus.stream,
        messages: info.state.messages,
        lastSeq: info.state.last_seq,
        consumers: info.state.consumer_count,
      },
      error: null,
    };
  } catch (err) {
    return { mode: 'nats', ok: false, rttMs: null, stream: null, error: message(err) };
  }
}

/** Two consecutive fire times of a schedule: its period, to tell a late cron function from a quiet one. */
function periodMs(schedule: string): number | null {
  try {
    const [a, b] = new Cron(schedule, { paused: true }).nextRuns(2);
    return a && b ? b.getTime() - a.getTime() : null;
  } catch {
    return null;
  }
}

function healthOf(w: FunctionWiring, s: RunStats, now: number): FunctionHealth['health'] {
  if (!s.lastRun) return 'idle';
  if (s.lastRun.outcome === 'error') return 'failing';
  if (w.trigger === 'cron' && w.schedule) {
    const period = periodMs(w.schedule);
    // Two missed periods (plus a minute of slack for the connector) and the schedule is not being kept.
    if (period !== null && now - Date.parse(s.lastRun.startedAt) > 2 * period + 60_000) return 'stale';
  }
  return 'ok';
}

export const systemRoutes = [
  defineRoute({
    method: 'get',
    path: '/system',
    summary:
      "Each function's health, last runs and error counts, schedules and topics from stack.yml, database and NATS status, trading halts",
    tag: 'system',
    response: SystemStatus,
    handler: async (_, { deps }) => {
      const sql = deps.sql();
      const file = findStackFile(deps.env.WEAVER_STACK_FILE);
      const wiring = file ? readWiring(file) : [];
      const [database, bus, halts] = await Promise.all([
        databaseStatus(sql),
        deps.bus().then(busStatus, (err) => ({
          mode: 'nats' as const,
          ok: false,
          rttMs: null,
          stream: null,
          error: message(err),
        })),
        activeHalts(sql, new Date(deps.now()).toISOString()),
      ]);
      const stats = database.ok
        ? await runStats(
            sql,
            wiring.map((w) => w.name),
          )
        : new Map<string, RunStats>();
      const known = new Map(wiring.map((w) => [w.name, w]));
      for (const name of stats.keys()) {
        if (!known.has(name)) known.set(name, { name, trigger: 'http', schedule: null, topics: [] });
      }
      const now = Date.now();
      const functions = [...known.values()].map((w): FunctionHealth => {
        const s = stats.get(w.name) ?? { lastRun: null, runs24h: 0, errors24h: 0, lastError: null };
        return { ...w, health: healthOf(w, s, now), ...s };
      });
      return {
        time: new Date(now).toISOString(),
        functions,
        database,
        bus,
        halt: { halted: halts.length > 0, halts },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/system/runs',
    summary: 'Function runs, newest first; filter by function and outcome; keyset pages',
    tag: 'system',
    query: RunsQuery,
    response: RunPage,
    handler: async ({ query }, { deps }) => rawJson(pageBody(await listRuns(deps.sql(), query))),
  }),
  defineRoute({
    method: 'get',
    path: '/system/events',
    summary:
      'The audit log of published events, newest first; filter by type and correlation id; keyset pages',
    tag: 'system',
    query: AuditQuery,
    response: AuditPage,
    handler: async ({ query }, { deps }) => rawJson(pageBody(await listAudit(deps.sql(), query))),
  }),
];
