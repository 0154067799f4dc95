/**
 * The backup path end to end against the real local PostgreSQL: infra/backups/pg-backup.sh dumps a private
 * database (as the weaver-backup service does on faasd), applies retention, and `weaver restore` brings the
 * dump back into other databases, row for row.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Sql } from '@weaver/shared/db';
import { createTestDatabase, type TestDatabase, useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../src/runner/runner.ts';

const SCRIPT = join(PROJECT_ROOT, 'infra', 'backups', 'pg-backup.sh');
const WEAVER = join(PROJECT_ROOT, 'cli', 'bin', 'weaver.js');

/** libpq's variables for a postgres:// URL, as the backup service is configured. */
function pgEnv(url: string): Record<string, string> {
  const u = new URL(url);
  return {
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGDATABASE: u.pathname.slice(1),
    ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
  };
}

/** Row count and a content hash of every table, to compare two databases. */
async function fingerprint(sql: Sql): Promise<Record<string, string>> {
  const tables = await sql<
    { t: string }[]
  >`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`;
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    const [r] = await sql.unsafe(
      `SELECT count(*)::text AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM "${t}" x`,
    );
    out[t] = `${r.n}:${r.h}`;
  }
  return out;
}

function restore(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [WEAVER, 'restore', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: '', ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('scheduled pg_dump and weaver restore', () => {
  const source = useTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'weaver-backups-'));
  const extra: TestDatabase[] = [];
  let emptyUrl = '';
  let emptyName = '';
  let dump = '';

  beforeAll(async () => {
    const sql = source.sql;
    await sql`INSERT INTO strategies (name, module, symbols, timeframe, enabled, params)
              VALUES ('sma', 'builtin:sma-crossover', '{AAPL}', '1Min', true, '{"fast": 5, "slow": 20}')`;
    await sql`INSERT INTO bars (symbol, timeframe, ts, open, high, low, close, volume)
              SELECT 'AAPL', '1Min', '2026-01-02T14:30:00Z'::timestamptz + i * interval '1 minute',
                     100 + i * 0.01, 101 + i * 0.01, 99 + i * 0.01, 100.5 + i * 0.01, 1000 + i
              FROM generate_series(0, 1999) AS i`;
    await sql`INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status,
                filled_qty, filled_avg_price)
              VALUES ('bk-1', 'sim', 'sma', 'AAPL', 'buy', 'market', 'day', 10, 'filled', 10, 100.123456789)`;
    await sql`INSERT INTO events (event_id, type, correlation_id, occurred_at, payload)
              VALUES ('e-1', 'bars.fetched', 'c', now(), '{"count": 2000, "note": "quote \\" and \\\\ kept"}')`;

    // An empty database outside the template, as on a fresh server.
    const admin = connect(inject('databaseUrl'), { max: 1 });
    emptyName = `weaver_t_${inject('dbRunId')}_${process.pid}_restore_empty`;
    await admin.unsafe(`DROP DATABASE IF EXISTS ${emptyName}`);
    await admin.unsafe(`CREATE DATABASE ${emptyName}`);
    await admin.end();
    const u = new URL(inject('databaseUrl'));
    u.pathname = `/${emptyName}`;
    emptyUrl = u.toString();
  });

  afterAll(async () => {
    for (const d of extra) await d.drop();
    const admin = connect(inject('databaseUrl'), { max: 1 });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${emptyName} WITH (FORCE)`).catch(() => {});
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pg-backup.sh writes a readable custom-format dump and deletes dumps past retention', () => {
    const stale = join(dir, 'weaver-20200101T000000Z.dump');
    writeFileSync(stale, 'old');
    const old = new Date(Date.now() - 20 * 86_400_000);
    utimesSync(stale, old, old);
    const unrelated = join(dir, 'notes.txt');
    writeFileSync(unrelated, 'keep me');
    utimesSync(unrelated, old, old);

    const out = execFileSync('sh', [SCRIPT], {
      env: { PATH: process.env.PATH ?? '', ...pgEnv(source.url), BACKUP_DIR: dir, BACKUP_KEEP_DAYS: '14' },
      encoding: 'utf8',
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ service: 'weaver-backup', level: 'info' });
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files).toContain('notes.txt');
    dump = join(dir, files.find((f) => /^weaver-\d{8}T\d{6}Z\.dump$/.test(f))!);
    expect(statSync(dump).size).toBeGreaterThan(1000);
    expect(lines.map((l) => l.msg)).toContain('deleted weaver-20200101T000000Z.dump (older than 14 days)');
    expect(execFileSync('pg_restore', ['--list', dump], { encoding: 'utf8' })).toMatch(
      /TABLE DATA public orders/,
    );
  });

  it('a failing pg_dump leaves no file that looks like a backup', () => {
    const failDir = join(dir, 'fail');
    const r = spawnSync('sh', [SCRIPT], {
      env: {
        PATH: process.env.PATH ?? '',
        ...pgEnv(source.url),
        PGDATABASE: 'weaver_no_such_database',
        BACKUP_DIR: failDir,
      },
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('"level":"error","msg":"pg_dump failed"');
    expect(readdirSync(failDir)).toEqual([]);
  });

  it('restores into an empty database: every table, row for row, and sequences continue', async () => {
    const r = restore([dump, '--database-url', emptyUrl]);
    expect(r.out).toMatch(/restored .*: schema version \d+, 1 orders, 0 trades, 2000 bars\./);
    expect(r.code).toBe(0);
    const target = connect(emptyUrl, { max: 1 });
    try {
      expect(await fingerprint(target)).toEqual(await fingerprint(source.sql));
      // Sequences came back with the data: the next order gets a fresh id.
      const [o] = await target<{ id: number }[]>`
        INSERT INTO orders (client_order_id, exchange, strategy, symbol, side, type, time_in_force, qty, status)
        VALUES ('bk-2', 'sim', 'sma', 'AAPL', 'sell', 'market', 'day', 1, 'new') RETURNING id`;
      expect(o.id).toBe(2);
    } finally {
      await target.end();
    }
  });

  it('refuses a database that has tables unless --clean, and --clean replaces them', async () => {
    const other = await createTestDatabase();
    extra.push(other);
    await other.sql`INSERT INTO strategies (name, module, symbols, timeframe) VALUES ('other', 'x', '{MSFT}', '1Day')`;
    const refused = restore([dump], { DATABASE_URL: other.url });
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/already has \d+ tables; pass --clean/);
    expect((await other.sql`SELECT name FROM strategies`).map((r) => r.name)).toEqual(['other']);

    const replaced = restore([dump, '--clean'], { DATABASE_URL: other.url });
    expect(replaced.code, replaced.out).toBe(0);
    expect(await fingerprint(other.sql)).toEqual(await fingerprint(source.sql));
  });

  it('a damaged dump is refused before anything is touched', async () => {
    const broken = join(dir, 'broken.dump');
    writeFileSync(broken, Buffer.from('PGDMP this is not really a dump'));
    const target = await createTestDatabase();
    extra.push(target);
    const before = await fingerprint(target.sql);
    const r = restore([broken, '--clean'], { DATABASE_URL: target.url });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/is not a pg_dump custom-format archive/);
    expect(await fingerprint(target.sql)).toEqual(before);
  });
});
