/**
 * `weaver backtest --strategy sma-crossover --symbols NVDA --param fast=10 --param slow=30`: one backtest
 * on the stored bars, saved like the API's, printed as a summary and trade table or as JSON.
 */
import { runStoredBacktest } from '@weaver/shared/backtest';
import { HttpError } from '@weaver/shared/runtime';
import type { BacktestMetrics, Timeframe } from '@weaver/shared/schemas';
import { openMigrated } from '../backtest/database.ts';
import {
  csvList,
  flagOf,
  keyValues,
  readFlags,
  SIMULATION_FLAGS,
  SIMULATION_SWITCHES,
  SIMULATION_USAGE,
  simulationOf,
  UsageError,
} from '../backtest/flags.ts';
import { duration, num, pct, table, when } from '../backtest/output.ts';
import type { Command } from '../main.ts';

const usage = `usage: weaver backtest --strategy NAME --symbols A[,B…] [--param k=v …] [options] [--json]

Runs a strategy over the stored bars (import them with \`weaver import-bars\`) in one portfolio, saves
the result (list it in the API and the UI) and prints its metrics and trades.
  --strategy NAME       a built-in (sma-crossover, ema-crossover, rsi-mean-reversion, bollinger-breakout,
                        macd, donchian-breakout, buy-and-hold, combination) or a WEAVER_STRATEGIES_DIR module
  --symbols LIST        comma-separated symbols
  --param NAME=VALUE    a strategy parameter (repeat); JSON values are accepted, e.g. members=[…]
  --name TEXT           a label for the saved result
${SIMULATION_USAGE}
  --trades              list every trade (the table shows the last 20 otherwise)
  --state-dir DIR       the local runner's state folder, for the embedded database (default .weaver)
  --json                print the result as JSON: id, final value, metrics, trades`;

function printResult(
  id: number,
  timeframe: Timeframe,
  m: BacktestMetrics,
  trades: Awaited<ReturnType<typeof runStoredBacktest>>['outcome']['trades'],
  all: boolean,
): void {
  const rows: [string, string][] = [
    ['start → end equity', `${num(m.startEquity)} → ${num(m.endEquity)}`],
    ['net profit', `${num(m.netProfit)} (${pct(m.totalReturn)})`],
    ['CAGR', pct(m.cagr)],
    ['Sharpe / Sortino / Calmar', `${num(m.sharpe)} / ${num(m.sortino)} / ${num(m.calmar)}`],
    ['probabilistic Sharpe', pct(m.probabilisticSharpe)],
    [
      'max drawdown',
      `${pct(m.maxDrawdown)} (${num(m.maxDrawdownAmount)}), ${m.maxDrawdownStart?.slice(0, 10) ?? '—'} → ${m.maxDrawdownEnd?.slice(0, 10) ?? '—'}, recovered ${m.maxDrawdownRecovery?.slice(0, 10) ?? 'never'}`,
    ],
    ['volatility (annual)', pct(m.annualVolatility)],
    ['trades (open)', `${m.trades} (${m.openTrades})`],
    ['win rate / profit factor', `${pct(m.winRate)} / ${num(m.profitFactor)}`],
    ['expectancy / SQN', `${num(m.expectancy)} / ${num(m.sqn)}`],
    ['avg win / avg loss', `${num(m.averageWin)} / ${num(m.averageLoss)}`],
    ['best / worst trade', `${num(m.bestTrade)} / ${num(m.worstTrade)}`],
    [
      'avg holding (win / loss)',
      `${duration(m.averageHoldingMs)} (${duration(m.averageWinnerHoldingMs)} / ${duration(m.averageLoserHoldingMs)})`,
    ],
    ['exposure / turnover', `${pct(m.exposure)} / ${num(m.turnover)}`],
    ['fees', num(m.totalFees)],
    ['alpha / beta vs buy-and-hold', `${num(m.alpha)} / ${num(m.beta)}`],
    ['buy-and-hold / market change', `${pct(m.benchmarkReturn)} / ${pct(m.marketChange)}`],
  ];
  process.stdout.write(`backtest ${id}\n${table(['metric', 'value'], rows, ['l', 'l'])}\n\n`);
  const shown = all ? trades : trades.slice(-20);
  if (shown.length) {
    if (!all && trades.length > shown.length)
      process.stdout.write(`last ${shown.length} of ${trades.length} trades (--trades lists all)\n`);
    process.stdout.write(
      `${table(
        ['#', 'symbol', 'side', 'qty', 'entry', 'entry price', 'exit', 'exit price', 'pnl', 'reason'],
        shown.map((t) => [
          t.seq,
          t.symbol,
          t.side,
          num(t.qty, 0),
          when(t.entryTime, timeframe) ?? '',
          num(t.entryPrice, 4),
          when(t.exitTime, timeframe) ?? 'open',
          t.exitPrice === null ? '' : num(t.exitPrice, 4),
          num(t.netPnl),
          t.exitReason ?? '',
        ]),
      )}\n`,
    );
  }
}

const backtest: Command = {
  name: 'backtest',
  summary: 'run a strategy over stored bars and print (and save) its metrics and trades',
  usage,
  async run(argv) {
    let input: Record<string, unknown>;
    let flags: ReturnType<typeof readFlags>;
    try {
      flags = readFlags(argv, {
        valued: ['strategy', 'symbols', 'name', 'state-dir', ...SIMULATION_FLAGS],
        repeated: ['param'],
        switches: ['json', 'trades', ...SIMULATION_SWITCHES],
      });
      if (!flags.values.strategy) throw new UsageError('--strategy is required');
      if (!flags.values.symbols) throw new UsageError('--symbols is required');
      input = {
        ...simulationOf(flags),
        name: flags.values.name,
        strategy: flags.values.strategy,
        symbols: csvList(flags.values.symbols),
        params: keyValues(flags.lists.param, 'param'),
      };
    } catch (e) {
      if (e instanceof UsageError) {
        process.stderr.write(`weaver backtest: ${e.message}\n\n${usage}\n`);
        return 2;
      }
      throw e;
    }
    let db: Awaited<ReturnType<typeof openMigrated>>;
    try {
      db = await openMigrated(flags.values['state-dir']);
    } catch (e) {
      process.stderr.write(`weaver backtest: ${(e as Error).message}\n`);
      return 1;
    }
    try {
      const r = await runStoredBacktest({ sql: db.sql, correlationId: `cli-backtest-${process.pid}` }, input);
      const m = r.metrics as BacktestMetrics;
      const tf = r.summary.timeframe;
      if (flags.switches.has('json')) {
        const trade = (t: (typeof r.outcome.trades)[0]) => ({
          symbol: t.symbol,
          side: t.side,
          size: t.qty,
          entry: when(t.entryTime, tf),
          entryPrice: t.entryPrice,
          exit: when(t.exitTime, tf),
          exitPrice: t.exitPrice,
          pnl: t.pnl,
          fees: t.fees,
          netPnl: t.netPnl,
          exitReason: t.exitReason,
          bars: t.bars,
        });
        const out = {
          id: r.id,
          strategy: r.summary.strategy,
          params: r.summary.params,
          symbols: r.summary.symbols,
          timeframe: tf,
          finalValue: m.endEquity,
          trades: r.outcome.trades.filter((t) => t.exitTime !== null).map(trade),
          openTrades: r.outcome.trades.filter((t) => t.exitTime === null).map(trade),
          metrics: m,
          faults: r.outcome.faults,
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        printResult(r.id, tf, m, r.outcome.trades, flags.switches.has('trades'));
        for (const f of r.outcome.faults)
          process.stderr.write(`warning: ${f.strategy} on ${f.symbol} disabled: ${f.reason}\n`);
      }
      return 0;
    } catch (e) {
      if (e instanceof HttpError) {
        const fields = Object.entries(e.fields).map(([k, v]) => `  ${flagOf(k)}: ${v}`);
        process.stderr.write(
          `weaver backtest: ${e.message}${fields.length ? `\n${fields.join('\n')}` : ''}\n`,
        );
        return e.status === 422 ? 3 : 2;
      }
      process.stderr.write(`weaver backtest: ${(e as Error).message}\n`);
      return 1;
    } finally {
      await db.close();
    }
  },
};

export default backtest;
