import { connect as netConnect, type Socket } from 'node:net';
import postgres, { type Sql } from 'postgres';
import { ConfigError, env, readSecret } from '../config/index.ts';
import { dec } from '../money/index.ts';

export type { Sql, TransactionSql } from 'postgres';

/** postgres.js options Weaver uses everywhere: numeric as canonical decimal strings, int8 as numbers. */
export function connect(
  url: string,
  options: { max?: number; maxPipeline?: number; onnotice?: (n: unknown) => void } = {},
): Sql {
  return postgres(url, {
    max: options.max ?? 5,
    ...(options.maxPipeline !== undefined ? { max_pipeline: options.maxPipeline } : {}),
    onnotice: options.onnotice ?? (() => {}),
    types: {
      // bigserial ids and counts stay far below 2^53; numbers are what the schemas and the UI expect.
      int8: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
      // numeric is money: keep it a string, canonical (no trailing zeros) so equal amounts compare equal.
      numeric: { to: 1700, from: [1700], serialize: (x: string) => String(x), parse: (x: string) => dec(x) },
    },
    connection: { application_name: process.env.WEAVER_FUNCTION ?? 'weaver' },
    // not in postgres.js's published types, but a documented option (README "Custom socket")
    ...({ socket: openSocket } as object),
  });
}

/**
 * postgres.js leaves Nagle's algorithm on, so a small final write (the end of a COPY, a COMMIT) waits on
 * the peer's delayed ACK: ~40 ms per round trip. Weaver's latency budget is a few ms, so sockets are
 * opened with TCP_NODELAY. postgres.js expects a connected socket from this hook.
 */
function openSocket(o: { host: string[]; port: number[]; path?: string | false }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = o.path
      ? netConnect(o.path)
      : netConnect({ host: o.host[0], port: o.port[0], noDelay: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.setNoDelay(true);
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

let shared: Sql | undefined;

/**
 * DATABASE_URL, else the OpenFaaS secret `database-url` (how deployed functions get it: the URL holds
 * the password, so it stays out of stack.yml and weaver.env). A missing or malformed value names itself.
 */
export function databaseUrl(): string {
  const e = env();
  if (e.DATABASE_URL) return e.DATABASE_URL;
  const secret = readSecret('database-url');
  if (secret) {
    const url = secret.reveal().trim();
    if (!/^postgres(ql)?:\/\//.test(url))
      throw new ConfigError({ 'database-url': 'must be a postgres:// URL' });
    return url;
  }
  throw new ConfigError({ DATABASE_URL: 'is required (or the secret database-url)' });
}

/** The process's pool, sized by DATABASE_POOL_MAX, for databaseUrl(). */
export function db(): Sql {
  if (!shared) shared = connect(databaseUrl(), { max: env().DATABASE_POOL_MAX });
  return shared;
}

let requests: Sql | undefined;

/**
 * The pool an API serves its requests from: one query at a time per connection. postgres.js otherwise
 * pipelines a query behind another on a busy connection, so one request waits for an unrelated one
 * (head-of-line blocking: the trades page's p99 was half again higher). Waiting in one queue for the
 * first free connection is fairer. Functions keep the process pool: their transactions pipeline their
 * own queries on purpose (several statements in one round trip).
 */
export function requestDb(): Sql {
  if (!requests) requests = connect(databaseUrl(), { max: env().DATABASE_POOL_MAX, maxPipeline: 1 });
  return requests;
}

/** Close the process's pools (graceful shutdown, tests). */
export async function closeDb(): Promise<void> {
  const pools = [shared, requests];
  shared = undefined;
  requests = undefined;
  await Promise.all(pools.map((s) => s?.end({ timeout: 5 })));
}

/** Use `sql` as the process's pool (the local runner and tests own their connection). */
export function setDb(sql: Sql): void {
  shared = sql;
}
