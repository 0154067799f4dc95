/**
 * `weaver migrate` and `weaver bench` as npm runs them (child processes, real PostgreSQL), and every
 * command's `--help`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect, loadMigrations } from '@weaver/shared/db';
import { describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../../shared/src/testing/global-setup.ts';
import { benchmarkFiles } from '../src/commands/bench.ts';
import type { Command } from '../src/main.ts';
import { REPO_ROOT } from './helpers.ts';

const weaver = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [join(REPO_ROOT, 'cli', 'bin', 'weaver.js'), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });

describe('weaver migrate', () => {
  it('migrates an empty database from nothing, then finds it up to date', async () => {
    const base = inject('databaseUrl');
    const name = `weaver_t_${inject('dbRunId')}_migrate_${randomBytes(3).toString('hex')}`;
    const admin = connect(base, { max: 1 });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    try {
      const url = withDatabase(base, name);
      const first = weaver(['migrate'], { DATABASE_URL: url });
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toMatch(
        new RegExp(`applied ${loadMigrations().length} migration\\(s\\) to DATABASE_URL`),
      );
      const sql = connect(url, { max: 1 });
      const rows = await sql<{ version: number }[]>`SELECT version FROM schema_migrations ORDER BY version`;
      await sql.end();
      expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
      const again = weaver(['migrate'], { DATABASE_URL: url });
      expect(again.status).toBe(0);
      expect(again.stdout).toContain('up to date');
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('names a malformed DATABASE_URL', () => {
    const r = weaver(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('DATABASE_URL must be a postgres:// URL');
  });
});

describe('weaver bench', () => {
  it('--json prints exactly one JSON object of named figures', () => {
    const r = weaver(['bench', '--only', 'ingest', '--quick', '--json'], {
      DATABASE_URL: inject('databaseUrl'),
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const figures = JSON.parse(lines[0]) as Record<string, number>;
    expect(Object.keys(figures).sort()).toEqual([
      'ingest_bars_per_s',
      'ingest_vs_psql_ratio',
      'psql_copy_bars_per_s',
    ]);
    for (const v of Object.values(figures)) expect(v).toBeGreaterThan(0);
  });

  it("README's benchmark table names every figure the benchmarks report, and no other", () => {
    // The keys each module returns, read from its source: running them all takes minutes.
    const reported = new Set(
      benchmarkFiles().flatMap((f) =>
        [
          ...readFileSync(join(REPO_ROOT, 'cli', 'src', 'bench', f), 'utf8').matchAll(
            /\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+_(?:per_s|ms|s|rps|qps|ratio|mb|kb))\s*:/g,
          ),
        ].map((m) => m[1]),
      ),
    );
    expect(reported).toContain('ingest_bars_per_s');
    expect(reported).toContain('web_first_load_js_gzip_kb');
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('\n## Benchmarks'),
      readme.indexOf('\n## ', readme.indexOf('\n## Benchmarks') + 1),
    );
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const documented = new Set(
      rows.flatMap((r) => [...r.split(' | ')[0].matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1])),
    );
    expect([...documented].sort()).toEqual([...reported].sort());
    // Each row says what the goal is (or "—" where the figure is reported without one).
    for (const r of rows) expect(r.split(' | ')[2]?.trim(), r.slice(0, 60)).toMatch(/\S/);
  });

  it('rejects an unknown benchmark name', () => {
    const r = weaver(['bench', '--only', 'nope'], {});
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown benchmark(s): nope');
  });
});

describe('weaver <command> --help', () => {
  const dir = join(REPO_ROOT, 'cli', 'src', 'commands');
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();

  it('finds the commands', () => {
    expect(names).toEqual(expect.arrayContaining(['backtest', 'build', 'import-bars', 'start', 'sweep']));
  });

  // No service settings in the environment: the usage comes before anything would need one.
  it.each(names)('%s --help prints its usage and exits 0', async (name) => {
    const command = (await import(pathToFileURL(join(dir, `${name}.ts`)).href)).default as Command;
    const r = weaver([name, '--help'], {});
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${command.usage}\n`);
    expect(r.stdout).toMatch(new RegExp(`^usage: weaver ${name}\\b`));
  });

  it('takes -h as --help, after other arguments too, but not after --', async () => {
    const build = (await import(pathToFileURL(join(dir, 'build.ts')).href)).default as Command;
    const short = weaver(['build', 'gateway', '-h'], {});
    expect(short.status).toBe(0);
    expect(short.stdout).toBe(`${build.usage}\n`);
    // After `--` the flag belongs to the command, which does not know it.
    const after = weaver(['build', '--', '--help'], {});
    expect(after.status).toBe(2);
    expect(after.stderr).toContain('unknown option --');
  });

  it('still refuses an unknown command, with the list of commands', () => {
    const r = weaver(['nope', '--help'], {});
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "nope"');
  });
});
