import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from '@weaver/shared/db';
import type { Command } from '../main.ts';

const usage = `usage: weaver restore <dump file> [--database-url URL] [--clean]

Restores a backup written by infra/backups/pg-backup.sh (pg_dump custom format) into the database at
--database-url (default: DATABASE_URL), in one transaction: it either restores completely or changes
nothing. A database that already has tables is refused unless --clean is given, which drops and
replaces Weaver's objects. Needs pg_restore on the PATH (Debian/Ubuntu: postgresql-client).

On faasd: stop trading first (faas-cli scale or the kill switch), restore, then start again:
  DATABASE_URL=postgres://weaver:…@10.62.0.1:5432/weaver npx weaver restore /var/lib/faasd/weaver/backups/weaver-….dump --clean`;

/** The URL without its password, and the password for PGPASSWORD: a password on a command line shows in `ps`. */
function splitPassword(url: string): { url: string; password?: string } {
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = '';
  return { url: u.toString(), password };
}

function run(cmd: string, args: string[], password?: string): { ok: boolean; out: string; missing: boolean } {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    maxBuffer: 64 * 1024 * 1024,
  });
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), missing };
}

const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a pg_dump backup (infra/backups) into DATABASE_URL, all or nothing',
  usage,
  async run(argv) {
    let file: string | undefined;
    let url = process.env.DATABASE_URL;
    let clean = false;
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--database-url') url = argv[++i];
      else if (a === '--clean') clean = true;
      else if (a.startsWith('-')) {
        process.stderr.write(`weaver restore: unknown option ${a}\n${usage}\n`);
        return 2;
      } else if (!file) file = a;
      else {
        process.stderr.write(`weaver restore: one dump file at a time\n${usage}\n`);
        return 2;
      }
    }
    if (!file) {
      process.stderr.write(`weaver restore: which dump file?\n${usage}\n`);
      return 2;
    }
    if (!existsSync(file)) {
      process.stderr.write(`weaver restore: ${file} does not exist\n`);
      return 1;
    }
    if (!url || !/^postgres(ql)?:\/\//.test(url)) {
      process.stderr.write('weaver restore: set DATABASE_URL or --database-url to a postgres:// URL\n');
      return 2;
    }
    const target = splitPassword(url);

    const list = run('pg_restore', ['--list', file]);
    if (list.missing) {
      process.stderr.write('weaver restore: pg_restore not found; install the PostgreSQL client tools\n');
      return 1;
    }
    if (!list.ok) {
      process.stderr.write(`weaver restore: ${file} is not a pg_dump custom-format archive: ${list.out}\n`);
      return 1;
    }
    if (!/TABLE \S+ schema_migrations\b/.test(list.out)) {
      process.stderr.write(
        `weaver restore: ${file} is not a Weaver backup (it has no schema_migrations table)\n`,
      );
      return 1;
    }

    const sql = connect(url, { max: 1 });
    try {
      const [{ n }] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`;
      if (n > 0 && !clean) {
        process.stderr.write(
          `weaver restore: the target database already has ${n} tables; pass --clean to replace them\n`,
        );
        return 1;
      }
    } catch (e) {
      process.stderr.write(`weaver restore: cannot reach the target database: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await sql.end({ timeout: 1 });
    }

    const args = [
      '--no-owner',
      '--no-privileges',
      '--single-transaction',
      '--exit-on-error',
      ...(clean ? ['--clean', '--if-exists'] : []),
      `--dbname=${target.url}`,
      file,
    ];
    const restored = run('pg_restore', args, target.password);
    if (!restored.ok) {
      process.stderr.write(`weaver restore: failed, nothing was changed:\n${restored.out}\n`);
      return 1;
    }

    const check = connect(url, { max: 1 });
    try {
      const [v] = await check<
        { version: number | null }[]
      >`SELECT max(version) AS version FROM schema_migrations`;
      const [c] = await check<{ orders: number; trades: number; bars: number }[]>`
        SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM trades)::int AS trades,
               (SELECT count(*) FROM bars)::int AS bars`;
      process.stdout.write(
        `restored ${file}: schema version ${v.version}, ${c.orders} orders, ${c.trades} trades, ${c.bars} bars.\n` +
          'If the backup is older than this release, `weaver migrate` applies the newer migrations.\n',
      );
    } finally {
      await check.end({ timeout: 1 });
    }
    return 0;
  },
};

export default restoreCommand;
