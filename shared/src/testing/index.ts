import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, inject } from 'vitest';
import { ensureStream, NatsBus } from '../bus/nats.ts';
import { resetEnv } from '../config/index.ts';
import { closeDb, connect, setDb } from '../db/client.ts';
import { withDatabase } from './global-setup.ts';

export interface TestDatabase {
  name: string;
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

let counter = 0;

/** A private, migrated database cloned from the suite's template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = inject('databaseUrl');
  const name = `weaver_t_${inject('dbRunId')}_${process.pid}_${++counter}_${randomBytes(2).toString('hex')}`;
  const admin = connect(base, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${inject('dbTemplate')}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(base, name);
  const sql = connect(url, { max: 10 });
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 1 });
      const a = connect(base, { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await a.end();
    },
  };
}

/**
 * Registers a private database for the current test file and makes it the process's database
 * (DATABASE_URL and db()), as a deployed function would see it. Use `.sql` inside tests.
 */
export function useTestDatabase(): { readonly sql: Sql; readonly url: string } {
  let tdb: TestDatabase | undefined;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    process.env.DATABASE_URL = tdb.url;
    resetEnv();
    setDb(tdb.sql);
  });
  afterAll(async () => {
    await closeDb().catch(() => {});
    await tdb?.drop();
  });
  return {
    get sql() {
      if (!tdb) throw new Error('test database not ready (use it inside tests or hooks)');
      return tdb.sql;
    },
    get url() {
      if (!tdb) throw new Error('test database not ready');
      return tdb.url;
    },
  };
}

/** The NATS URL of this run, or null (suites needing JetStream use describe.skipIf(!natsUrl())). */
export function natsUrl(): string | null {
  return inject('natsUrl');
}

/** A bus on real NATS with a private subject prefix and stream, deleted afterwards. */
export async function createTestNatsBus(): Promise<{
  bus: NatsBus;
  prefix: string;
  stream: string;
  drop(): Promise<void>;
}> {
  const url = natsUrl();
  if (!url) throw new Error('NATS_URL is not set: this suite needs a real NATS server with JetStream');
  const id = randomBytes(4).toString('hex');
  const prefix = `t${id}`;
  const stream = `T_${id}`;
  const bus = await NatsBus.connect({ url, prefix, stream });
  return {
    bus,
    prefix,
    stream,
    async drop() {
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const jsm = await jetstreamManager(bus.nc);
      await jsm.streams.delete(stream).catch(() => {});
      await bus.close();
    },
  };
}

export { testSecret, testSecretValues } from './test-secrets.ts';
export { ensureStream };
