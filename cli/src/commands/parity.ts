/**
 * `weaver parity --from 2024-01-01 --to 2024-02-01`: replays the stored bars through the backtester with
 * each strategy's live configuration and lists, side by side, every signal and fill that differs from
 * what the bot did, with its cause where the data tells it.
 */
import { parityReport } from '@weaver/shared/backtest';
import { HttpError } from '@weaver/shared/runtime';
import { TimeInput } from '@weaver/shared/schemas';
import { openMigrated } from '../backtest/database.ts';
import { csvList, readFlags, UsageError } from '../backtest/flags.ts';
import { table } from '../backtest/output.ts';
import type { Command } from '../main.ts';

const usage = `usage: weaver parity --from DATE --to DATE [--strategy NAME[,NAME…]] [--json]

Live versus backtest for a period the bot traded: replays the stored bars through the backtester with
each strategy's live configuration (module, parameters, symbols, sizing, exits) and lists every signal
and fill that differs, with its cause where known (a bar revised or missing, a risk halt or rejection,
a partial fill, slippage against the simulated price, a late signal after a restart).
  --from DATE --to DATE   the period (YYYY-MM-DD or ISO instants, inclusive)
  --strategy LIST         only these strategy instances (default: all)
  --state-dir DIR         the local runner's state folder, for the embedded database (default .weaver)
  --json                  print the report as JSON
Exit status: 0 when live and backtest agree, 1 when something differs.`;

const parity: Command = {
  name: 'parity',
  summary: 'compare what the bot did live with a backtest of the same bars and configuration',
  usage,
  async run(argv) {
    let flags: ReturnType<typeof readFlags>;
    let from: string;
    let to: string;
    try {
      flags = readFlags(argv, { valued: ['from', 'to', 'strategy', 'state-dir'], switches: ['json'] });
      const f = TimeInput.safeParse(flags.values.from);
      const t = TimeInput.safeParse(flags.values.to);
      if (!f.success) throw new UsageError('--from must be a date (YYYY-MM-DD) or an ISO instant');
      if (!t.success) throw new UsageError('--to must be a date (YYYY-MM-DD) or an ISO instant');
      from = f.data;
      // A date alone means the whole day.
      to = flags.values.to?.length === 10 ? new Date(Date.parse(t.data) + 86_399_999).toISOString() : t.data;
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`weaver parity: ${e.message}\n\n${usage}\n`);
        return 2;
      }
      throw e;
    }
    let db: Awaited<ReturnType<typeof openMigrated>>;
    try {
      db = await openMigrated(flags.values['state-dir']);
    } catch (e) {
      process.stderr.write(`weaver parity: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      const report = await parityReport(db.sql, { from, to, strategies: csvList(flags.values.strategy) });
      const differs = report.strategies.some((s) => s.differences.length > 0 || s.error);
      if (flags.switches.has('json')) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return differs ? 1 : 0;
      }
      const lines: string[] = [`parity ${report.from} … ${report.to}`];
      if (report.strategies.length === 0) lines.push('no strategies configured');
      for (const s of report.strategies) {
        lines.push(
          '',
          `${s.strategy} (${s.module} on ${s.symbols.join(',')} ${s.timeframe}): signals ${s.signals.matched}/${s.signals.live} live, ${s.signals.backtest} backtest; fills ${s.fills.matched}/${s.fills.live} live, ${s.fills.backtest} backtest`,
        );
        if (s.error) lines.push(`  not replayed: ${s.error}`);
        if (s.differences.length === 0 && !s.error) lines.push('  live and backtest agree');
        else if (s.differences.length) {
          const show = (x: unknown) => {
            if (!x) return '—';
            const v = x as { side: string; price: number; qty?: number };
            return `${v.side} ${v.qty !== undefined ? `${v.qty} @ ` : '@ '}${v.price}`;
          };
          lines.push(
            table(
              ['bar', 'symbol', 'kind', 'live', 'backtest', 'cause'],
              s.differences.map((d) => [
                d.barTime,
                d.symbol,
                d.kind,
                show(d.live),
                show(d.backtest),
                d.cause ?? 'unknown',
              ]),
              ['l', 'l', 'l', 'l', 'l', 'l'],
            ),
          );
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      return differs ? 1 : 0;
    } catch (e) {
      if (e instanceof HttpError) {
        process.stderr.write(`weaver parity: ${e.message}\n`);
        return 2;
      }
      process.stderr.write(`weaver parity: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await db.close();
    }
  },
};

export default parity;
