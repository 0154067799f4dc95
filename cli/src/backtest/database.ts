/**
 * The database of a backtest command: DATABASE_URL, or the embedded PostgreSQL the local runner keeps
 * in <state>/pg (started for the command), migrated before use so a fresh database just works.
 */
import { join } from 'node:path';
import { parseEnv } from '@weaver/shared/config';
import { migrate } from '@weaver/shared/db';
import { type Database, openDatabase } from '../runner/database.ts';
import { PROJECT_ROOT } from '../runner/runner.ts';

export async function openMigrated(stateDir: string | undefined, poolMax = 4): Promise<Database> {
  const env = parseEnv();
  const db = await openDatabase({
    url: env.DATABASE_URL,
    stateDir: stateDir ?? join(PROJECT_ROOT, '.weaver'),
    poolMax,
  });
  try {
    await migrate(db.sql);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
