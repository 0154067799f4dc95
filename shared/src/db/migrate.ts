import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Migrations are `NNNN_name.sql` files, applied in version order, each once, each in its own transaction. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

// An arbitrary constant: one migrator at a time across every process sharing the database.
const LOCK_KEY = 0x77656176;

/** Applies pending migrations; returns the versions applied. Refuses if an applied file was edited. */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = loadMigrations(dir);
  const applied: number[] = [];
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
    const done = new Map(
      (
        await tx<{ version: number; checksum: string }[]>`SELECT version, checksum FROM schema_migrations`
      ).map((r) => [r.version, r.checksum]),
    );
    for (const m of migrations) {
      const seen = done.get(m.version);
      if (seen !== undefined) {
        if (seen !== m.checksum) {
          throw new Error(`migration ${m.version}_${m.name} was changed after it was applied`);
        }
        continue;
      }
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${m.checksum})`;
      applied.push(m.version);
    }
  });
  return applied;
}

const migrated = new WeakMap<Sql, Promise<number[]>>();

/**
 * Applies pending migrations once per pool, on first use. Deployed functions call it on their cold
 * start (WEAVER_AUTO_MIGRATE, default on), so a release with new migrations needs no manual step: the
 * first function to start migrates under the advisory lock, the others find nothing to do.
 */
export function ensureMigrated(sql: Sql): Promise<number[]> {
  let done = migrated.get(sql);
  if (!done) {
    done = migrate(sql);
    migrated.set(sql, done);
    done.catch(() => migrated.delete(sql));
  }
  return done;
}
