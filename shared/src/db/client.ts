import { connect as netConnect, type Socket } from 'node:net';
import postgres, { type Sql } from 'postgres';
import { ConfigError, env, readSecret } from '../config/index.ts';
import { dec } from '../money/index.ts';

export type { Sql, TransactionSql } from 'postgres';

/** postgres.js options Weaver uses everywhere: numeric as canonical decimal strings, int8 as numbers. */
export function connect(url: string, options: { max?: number; onnotice?: (n: unknown) => void } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 5,
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

/** Close the process's pool (graceful shutdown, tests). */
export async function closeDb(): Promise<void> {
  const s = shared;
  shared = undefined;
  await s?.end({ timeout: 5 });
}

/** Use `sql` as the process's pool (the local runner and tests own their connection). */
export function setDb(sql: Sql): void {
  shared = sql;
}
