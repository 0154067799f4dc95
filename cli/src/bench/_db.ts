/** Private databases for benchmarks (files starting with "_" are helpers, not benchmarks). */
import { randomBytes } from 'node:crypto';
import { connect, migrate, type Sql } from '@weaver/shared/db';

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh, migrated database on the server of `base`; dropped by the returned function. */
export async function freshDatabase(
  base: string,
  tag: string,
): Promise<{ url: string; sql: Sql; drop(): Promise<void> }> {
  const name = `weaver_bench_${tag}_${randomBytes(3).toString('hex')}`;
  const admin = connect(base, { max: 1 });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(base, name);
  const sql = connect(url, { max: 2 });
  await migrate(sql);
  return {
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 1 });
      const a = connect(base, { max: 1 });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
