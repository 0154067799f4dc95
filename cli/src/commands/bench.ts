/**
 * `weaver bench`: runs every benchmark module in cli/src/bench/ and reports one JSON object whose keys
 * name the figure and its unit. Services come from DATABASE_URL / NATS_URL (each module makes private
 * databases and subject prefixes); without DATABASE_URL an embedded PostgreSQL is started for the run.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { startEmbeddedPostgres } from '../runner/database.ts';

export interface BenchContext {
  /** A shorter run (smaller data, fewer rounds) for smoke checks. */
  quick: boolean;
  /** Progress lines (stderr), never part of the results. */
  log: (line: string) => void;
}

export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<Record<string, number>>;
}

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');

export function benchmarkFiles(): string[] {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('_'))
    .sort();
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Math.round(v * 1000) / 1000);
}

/** The readable table: one row per figure. */
export function table(rows: { bench: string; key: string; value: string }[]): string {
  const w = [5, 6, 5];
  for (const r of rows) {
    w[0] = Math.max(w[0], r.bench.length);
    w[1] = Math.max(w[1], r.key.length);
    w[2] = Math.max(w[2], r.value.length);
  }
  const line = (a: string, b: string, c: string) =>
    `${a.padEnd(w[0])}  ${b.padEnd(w[1])}  ${c.padStart(w[2])}`;
  return [
    line('bench', 'figure', 'value'),
    line('-'.repeat(w[0]), '-'.repeat(w[1]), '-'.repeat(w[2])),
    ...rows.map((r) => line(r.bench, r.key, r.value)),
  ].join('\n');
}

const usage = `usage: weaver bench [--json] [--only name,...] [--quick]

Runs every benchmark in cli/src/bench/ and prints a table and one JSON object of figures (keys name the
figure and unit, e.g. ingest_bars_per_s). --json prints only the JSON object. --only runs the named
benchmarks. --quick uses less data, for a smoke run. Uses DATABASE_URL and NATS_URL.`;

const bench: Command = {
  name: 'bench',
  summary: 'run the benchmarks and print their figures (table + JSON)',
  usage,
  async run(argv) {
    let values: { json?: boolean; only?: string; quick?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { json: { type: 'boolean' }, only: { type: 'string' }, quick: { type: 'boolean' } },
      }));
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n${usage}\n`);
      return 2;
    }
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const modules: Benchmark[] = [];
    for (const f of benchmarkFiles()) {
      const mod = (await import(pathToFileURL(join(benchDir, f)).href)) as { default?: Benchmark };
      if (!mod.default || typeof mod.default.run !== 'function') {
        process.stderr.write(`cli/src/bench/${f}: default export is not a benchmark { name, run }\n`);
        return 1;
      }
      modules.push(mod.default);
    }
    const only = values.only
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (only) {
      const unknown = only.filter((n) => !modules.some((m) => m.name === n));
      if (unknown.length) {
        process.stderr.write(
          `unknown benchmark(s): ${unknown.join(', ')} (known: ${modules.map((m) => m.name).join(', ')})\n`,
        );
        return 2;
      }
    }
    const selected = only ? modules.filter((m) => only.includes(m.name)) : modules;

    let stopPg: (() => Promise<void>) | undefined;
    if (!process.env.DATABASE_URL) {
      const { mkdtempSync, chmodSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const dir = mkdtempSync(join(tmpdir(), 'weaver-bench-'));
      chmodSync(dir, 0o755);
      log('DATABASE_URL is unset: starting an embedded PostgreSQL for the benchmarks');
      const pg = await startEmbeddedPostgres(join(dir, 'pg'));
      process.env.DATABASE_URL = pg.url;
      stopPg = async () => {
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
      };
    }

    const results: Record<string, number> = {};
    const rows: { bench: string; key: string; value: string }[] = [];
    const failed: string[] = [];
    try {
      for (const m of selected) {
        log(`▶ ${m.name}`);
        const t0 = performance.now();
        try {
          const figures = await m.run({ quick: !!values.quick, log: (l) => log(`  ${m.name}: ${l}`) });
          for (const [k, v] of Object.entries(figures)) {
            results[k] = v;
            rows.push({ bench: m.name, key: k, value: formatNumber(v) });
          }
          log(`✔ ${m.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        } catch (e) {
          failed.push(m.name);
          log(`✘ ${m.name}: ${(e as Error).stack ?? (e as Error).message}`);
        }
      }
    } finally {
      await stopPg?.();
    }
    if (!values.json) process.stdout.write(`\n${table(rows)}\n\n`);
    process.stdout.write(`${JSON.stringify(results)}\n`);
    if (failed.length) {
      process.stderr.write(`failed: ${failed.join(', ')}\n`);
      return 1;
    }
    return 0;
  },
};

export default bench;
