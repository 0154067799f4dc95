/**
 * `weaver fetch-history`: downloads bars into Postgres with a progress bar per symbol. Resumes where an
 * earlier run stopped, never stores a bar twice, keeps to the venue's rate limit (the adapter's), and
 * ends with a gap report against the exchange calendar, so missing sessions are shown, not hidden.
 */
import { join } from 'node:path';
import { ConfigError, parseEnv } from '@weaver/shared/config';
import { migrate } from '@weaver/shared/db';
import { getExchange, parseTimeframe, resetExchanges } from '@weaver/shared/exchanges';
import { type DownloadProgress, downloadHistory, findGaps, type GapReport } from '@weaver/shared/market-data';
import { TradingSymbol as SymbolSchema, TIMEFRAMES, TimeInput } from '@weaver/shared/schemas';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { z } from 'zod';
import type { Command } from '../main.ts';
import { openDatabase } from '../runner/database.ts';
import { PROJECT_ROOT } from '../runner/runner.ts';

const usage = `usage: weaver fetch-history --symbols AAPL,MSFT --timeframe 1Min --from 2024-01-01 [options]

Downloads historical bars from an exchange into Postgres (DATABASE_URL, or the embedded database of
\`weaver start\`), then reports sessions the exchange calendar says traded but that have no bars.

  --exchange NAME      venue adapter (default: WEAVER_EXCHANGE, e.g. alpaca)
  --symbols LIST       comma-separated: AAPL,MSFT or BTC/USD
  --timeframe TF       ${TIMEFRAMES.join(', ')} (1m, 1h, 1d are accepted too)
  --from DATE          first bar time, YYYY-MM-DD or an ISO instant (inclusive)
  --to DATE            last bar time (inclusive; default: now)
  --page-size N        bars per request (default: the venue's maximum)
  --concurrency N      symbols downloaded at once (default 2; requests are still rate limited)
  --json               print the result as JSON instead of a summary
  --no-progress        no progress bars

A run that stops midway (Ctrl-C, network, the venue) keeps what it stored; the next run with the same
range continues where it stopped and fetches nothing twice.`;

const Args = z
  .object({
    exchange: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be an exchange name such as alpaca' })
      .optional(),
    symbols: z
      .string({ message: 'is required, e.g. --symbols AAPL,MSFT' })
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(SymbolSchema).min(1, { message: 'needs at least one symbol' })),
    timeframe: z.string({ message: `is required: one of ${TIMEFRAMES.join(', ')}` }).transform((t, ctx) => {
      const tf = parseTimeframe(t);
      if (!tf) {
        ctx.addIssue({ code: 'custom', message: `must be one of ${TIMEFRAMES.join(', ')}` });
        return z.NEVER;
      }
      return tf;
    }),
    from: TimeInput,
    to: TimeInput.optional(),
    'page-size': z.coerce.number().int().min(1).max(10_000).optional(),
    concurrency: z.coerce.number().int().min(1).max(16).default(2),
    json: z.boolean().default(false),
    progress: z.boolean().default(true),
  })
  .refine((a) => !a.to || a.to > a.from, { path: ['to'], message: 'must be after --from' });

type Parsed = z.output<typeof Args>;

/** `--key value`, `--key=value` and boolean flags to an object; unknown flags are errors. */
function readFlags(argv: string[]): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  const valued = new Set(['exchange', 'symbols', 'timeframe', 'from', 'to', 'page-size', 'concurrency']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) return `unexpected argument "${a}"`;
    const [key, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (key === 'json') out.json = true;
    else if (key === 'no-progress') out.progress = false;
    else if (valued.has(key)) {
      const v = inline ?? argv[++i];
      if (v === undefined) return `--${key} needs a value`;
      out[key] = v;
    } else return `unknown option --${key}`;
  }
  return out;
}

function parseArgs(argv: string[]): Parsed | string {
  const flags = readFlags(argv);
  if (typeof flags === 'string') return flags;
  const r = Args.safeParse(flags);
  if (r.success) return r.data;
  return r.error.issues
    .map(
      (i) =>
        `--${String(i.path[0] ?? '')}${i.path.length > 1 ? ` (${i.path.slice(1).join('.')})` : ''}: ${i.message}`,
    )
    .join('\n');
}

interface Progress {
  update(p: DownloadProgress): void;
  stop(): void;
}

/** One bar per symbol on a terminal; otherwise a line at start, every quarter, and the end. */
function progressFor(symbols: string[], enabled: boolean): Progress {
  if (!enabled) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const multi = new MultiBar(
      {
        stream: process.stderr,
        format: ' {symbol} [{bar}] {percentage}% | {written} bars | {status}',
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    const width = Math.max(...symbols.map((s) => s.length));
    const bars = new Map<string, SingleBar>(
      symbols.map((s) => [
        s,
        multi.create(100, 0, { symbol: s.padEnd(width), written: 0, status: 'waiting' }),
      ]),
    );
    return {
      update(p) {
        const status =
          p.phase === 'error'
            ? `stopped: ${p.error}`
            : p.phase === 'done'
              ? 'done'
              : p.through
                ? `through ${p.through}`
                : 'starting';
        bars.get(p.symbol)?.update(Math.round(p.fraction * 100), { written: p.written, status });
      },
      stop: () => multi.stop(),
    };
  }
  const lastQuarter = new Map<string, number>();
  return {
    update(p) {
      const q = Math.floor(p.fraction * 4);
      if (p.phase === 'page' && q <= (lastQuarter.get(p.symbol) ?? -1)) return;
      lastQuarter.set(p.symbol, q);
      const what =
        p.phase === 'error' ? `stopped: ${p.error}` : `${Math.round(p.fraction * 100)}%, ${p.written} bars`;
      process.stderr.write(`${p.symbol}: ${what}\n`);
    },
    stop() {},
  };
}

function summary(
  symbol: string,
  d: { written: number; rejected: number; resumedFrom: string | null; upToDate: boolean; error?: string },
  g: GapReport | null,
): string {
  const parts = [`${symbol}: ${d.upToDate ? 'already downloaded' : `${d.written} bars written`}`];
  if (d.resumedFrom) parts.push(`resumed from ${d.resumedFrom}`);
  if (d.rejected) parts.push(`${d.rejected} invalid bars from the venue not stored`);
  if (d.error) parts.push(`STOPPED: ${d.error} (run again to resume)`);
  if (g) {
    parts.push(
      g.missing.length
        ? `${g.sessions} sessions, ${g.missing.length} without bars: ${g.missing.map((m) => m.date).join(', ')}`
        : `${g.sessions} sessions, none missing`,
    );
  }
  return parts.join('; ');
}

const fetchHistory: Command = {
  name: 'fetch-history',
  summary: 'download historical bars into Postgres (resumable, de-duplicated, gaps reported)',
  usage,
  async run(argv) {
    const args = parseArgs(argv);
    if (typeof args === 'string') {
      process.stderr.write(`weaver fetch-history: ${args}\n\n${usage}\n`);
      return 2;
    }
    let env: ReturnType<typeof parseEnv>;
    try {
      env = parseEnv();
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`weaver fetch-history: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    const exchangeName = args.exchange ?? env.WEAVER_EXCHANGE;
    const db = await openDatabase({
      url: env.DATABASE_URL,
      stateDir: join(PROJECT_ROOT, '.weaver'),
      poolMax: 4,
    });
    try {
      await migrate(db.sql);
      const adapter = await getExchange(exchangeName).catch((e: unknown) => {
        throw new Error(`exchange ${exchangeName}: ${e instanceof Error ? e.message : String(e)}`);
      });
      const progress = progressFor(args.symbols, args.progress && !args.json);
      const result = await downloadHistory({
        sql: db.sql,
        exchange: exchangeName,
        adapter,
        symbols: args.symbols,
        timeframe: args.timeframe,
        from: args.from,
        to: args.to,
        pageSize: args['page-size'],
        concurrency: args.concurrency,
        onProgress: (p) => progress.update(p),
      }).finally(() => progress.stop());
      const gaps = new Map<string, GapReport>();
      for (const s of result.symbols) {
        if (s.error) continue;
        gaps.set(
          s.symbol,
          await findGaps(db.sql, adapter, {
            symbol: s.symbol,
            timeframe: args.timeframe,
            from: args.from,
            to: args.to,
          }),
        );
      }
      if (args.json) {
        const out = {
          exchange: exchangeName,
          timeframe: args.timeframe,
          written: result.written,
          rejected: result.rejected,
          symbols: result.symbols.map((s) => {
            const g = gaps.get(s.symbol);
            return { ...s, gaps: g ? { sessions: g.sessions, missing: g.missing } : null };
          }),
        };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        for (const s of result.symbols)
          process.stdout.write(`${summary(s.symbol, s, gaps.get(s.symbol) ?? null)}\n`);
      }
      return result.symbols.some((s) => s.error) ? 1 : 0;
    } catch (e) {
      process.stderr.write(`weaver fetch-history: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    } finally {
      await resetExchanges();
      await db.close();
    }
  },
};

export default fetchHistory;
