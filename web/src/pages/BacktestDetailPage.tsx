import type {
  BacktestMetrics,
  BacktestResult,
  BacktestSeries,
  BacktestTrade,
  BacktestTradePage,
  BarsResponse,
} from '@weaver/shared/schemas';
import { useId, useMemo, useState } from 'react';
import useSWR from 'swr';
import { api, apiPath } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { candlesOf, snapToCandles, type TradeMark, toSeconds } from '../charts/series.ts';
import type { LineSpec } from '../charts/TimeChart.tsx';
import { Chart } from '../components/Chart.tsx';
import { Panel, Stat } from '../components/Panel.tsx';
import { Async, errorMessage } from '../components/states.tsx';
import { type Column, Table } from '../components/Table.tsx';
import { date, dateTime, duration, money, num, pct, pnl, rate, tone } from '../lib/format.ts';
import { BacktestState, paramsText } from './BacktestsPage.tsx';

export const SERIES_COLORS = ['#38bdf8', '#f472b6', '#a3e635', '#fbbf24', '#c084fc', '#fb923c'];

/** The cards a trader reads first; every metric is in the table below them. */
function MetricCards({ m }: { m: BacktestMetrics }) {
  return (
    <div className="metric-cards">
      <Stat label="Total return" value={pct(m.totalReturn)} tone={tone(m.totalReturn)} />
      <Stat label="CAGR" value={pct(m.cagr)} tone={tone(m.cagr)} />
      <Stat label="Net profit" value={pnl(m.netProfit)} tone={tone(m.netProfit)} />
      <Stat label="End equity" value={money(m.endEquity)} />
      <Stat label="Sharpe" value={num(m.sharpe)} />
      <Stat label="Sortino" value={num(m.sortino)} />
      <Stat label="Max drawdown" value={pct(-Math.abs(m.maxDrawdown))} tone={m.maxDrawdown ? 'neg' : ''} />
      <Stat label="Calmar" value={num(m.calmar)} />
      <Stat
        label="Trades"
        value={m.trades}
        hint={m.openTrades ? `${m.openTrades} open at the end` : undefined}
      />
      <Stat label="Win rate" value={rate(m.winRate)} />
      <Stat label="Profit factor" value={num(m.profitFactor)} />
      <Stat label="Expectancy" value={pnl(m.expectancy)} tone={tone(m.expectancy)} />
      <Stat label="Exposure" value={rate(m.exposure)} hint="time in the market" />
      <Stat label="Fees" value={money(m.totalFees)} />
      <Stat
        label="Benchmark"
        value={pct(m.benchmarkReturn)}
        tone={tone(m.benchmarkReturn)}
        hint="buy and hold"
      />
    </div>
  );
}

const MS_KEYS = new Set(['maxDrawdownDurationMs', 'timeToRecoveryMs', 'longestDrawdownMs']);
const HOLD_KEYS = new Set(['averageHoldingMs', 'averageWinnerHoldingMs', 'averageLoserHoldingMs']);

function metricValue(key: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'string') return dateTime(v);
  if (MS_KEYS.has(key) || HOLD_KEYS.has(key)) return duration(v as number);
  return num(v as number);
}

function AllMetrics({ m }: { m: BacktestMetrics }) {
  return (
    <details>
      <summary>All metrics</summary>
      <dl className="kv kv-columns">
        {Object.entries(m).map(([k, v]) => (
          <div key={k} className="kv-row">
            <dt>{k}</dt>
            <dd>{metricValue(k, v)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

export function curveLines(series: BacktestSeries): { equity: LineSpec[]; drawdown: LineSpec[] } {
  const t = series.times.map((ms) => Math.floor(ms / 1000));
  return {
    equity: [
      {
        id: 'equity',
        title: 'Equity',
        color: SERIES_COLORS[0],
        area: true,
        money: true,
        data: series.equity.map((v, i) => ({ time: t[i], value: v })),
      },
      // The benchmark is buy-and-hold of the same symbols, scaled to start with the same equity.
      ...(series.benchmark.length === t.length && series.benchmark[0] && series.equity.length
        ? [
            {
              id: 'benchmark',
              title: 'Buy & hold',
              color: '#94a3b8',
              money: true,
              data: series.benchmark.map((v, i) => ({
                time: t[i],
                value: (v / series.benchmark[0]) * series.equity[0],
              })),
            },
          ]
        : []),
    ],
    drawdown: [
      {
        id: 'drawdown',
        title: 'Drawdown',
        color: '#f87171',
        area: true,
        percent: true,
        data: series.drawdown.map((v, i) => ({ time: t[i], value: -Math.abs(v) || 0 })),
      },
    ],
  };
}

/**
 * Entries and exits as chart markers: a long opens with a buy and closes with a sell, a short the reverse.
 * Trade numbers label entries and exits (the chart shows them where they fit, else on hover).
 */
function tradeMarks(trades: BacktestTrade[], symbol: string): TradeMark[] {
  const marks: TradeMark[] = [];
  const mine = trades.filter((t) => t.symbol === symbol);
  for (const t of mine) {
    marks.push({
      time: toSeconds(t.entryTime),
      side: t.side === 'long' ? 'buy' : 'sell',
      text: `#${t.seq}`,
    });
    if (t.exitTime)
      marks.push({
        time: toSeconds(t.exitTime),
        side: t.side === 'long' ? 'sell' : 'buy',
        text: `#${t.seq} exit`,
      });
  }
  return marks;
}

function PriceWithTrades({ result, trades }: { result: BacktestResult; trades: BacktestTrade[] }) {
  const id = useId();
  const symbols = result.symbols;
  const [symbol, setSymbol] = useState(symbols[0]);
  const times = result.series?.times ?? [];
  const from = times.length ? new Date(times[0]).toISOString() : result.config.from;
  const to = times.length ? new Date(times[times.length - 1]).toISOString() : result.config.to;
  const bars = useSWR<BarsResponse>(
    apiPath(routes.bars, { symbol, timeframe: result.timeframe, from, to, width: 800 }),
  );
  const candles = useMemo(() => candlesOf(bars.data?.bars ?? []), [bars.data]);
  const markers = useMemo(
    () =>
      snapToCandles(
        tradeMarks(trades, symbol),
        candles.map((c) => c.time),
        (bars.data?.bucketMs ?? 60_000) / 1000,
      ),
    [trades, symbol, candles, bars.data],
  );
  return (
    <Panel
      title="Price and trades"
      actions={
        symbols.length > 1 ? (
          <>
            <label htmlFor={`${id}-sym`} className="sr-only">
              Symbol
            </label>
            <select id={`${id}-sym`} value={symbol} onChange={(e) => setSymbol(e.target.value)}>
              {symbols.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </>
        ) : (
          <span className="muted">{symbol}</span>
        )
      }
    >
      <Async
        data={bars.data}
        error={bars.error}
        retry={() => bars.mutate()}
        isEmpty={(d) => d.bars.length === 0}
        empty={`No ${result.timeframe} bars for ${symbol} in the backtest's range.`}
      >
        {() => (
          <Chart
            label={`${symbol} ${result.timeframe} price with the backtest's ${markers.length} entries and exits`}
            height={380}
            candles={candles}
            markers={markers}
          />
        )}
      </Async>
    </Panel>
  );
}

const tradeColumns: Column<BacktestTrade>[] = [
  { key: 'seq', header: '#', sortValue: (t) => t.seq, cell: (t) => t.seq },
  { key: 'symbol', header: 'Symbol', cell: (t) => t.symbol },
  {
    key: 'side',
    header: 'Side',
    cell: (t) => <span className={t.side === 'long' ? 'pos' : 'neg'}>{t.side}</span>,
  },
  { key: 'qty', header: 'Qty', align: 'right', cell: (t) => num(t.qty) },
  {
    key: 'entry',
    header: 'Entry',
    sortValue: (t) => t.entryTime,
    cell: (t) => `${dateTime(t.entryTime)} @ ${num(t.entryPrice)}`,
  },
  {
    key: 'exit',
    header: 'Exit',
    cell: (t) =>
      t.exitTime ? `${dateTime(t.exitTime)} @ ${num(t.exitPrice)}` : <span className="muted">open</span>,
    secondary: true,
  },
  {
    key: 'pnl',
    header: 'Net P&L',
    align: 'right',
    sortValue: (t) => t.netPnl,
    cell: (t) => <span className={tone(t.netPnl)}>{pnl(t.netPnl)}</span>,
  },
  {
    key: 'ret',
    header: 'Return',
    align: 'right',
    sortValue: (t) => t.returnPct,
    cell: (t) => <span className={tone(t.returnPct)}>{pct(t.returnPct)}</span>,
  },
  {
    key: 'reason',
    header: 'Exit reason',
    cell: (t) => t.exitReason?.replace(/_/g, ' ') ?? '',
    secondary: true,
  },
  {
    key: 'bars',
    header: 'Bars',
    align: 'right',
    sortValue: (t) => t.bars,
    cell: (t) => t.bars,
    secondary: true,
  },
];

function Trades({ id, first }: { id: string; first: BacktestTradePage }) {
  const [more, setMore] = useState<BacktestTrade[]>([]);
  const [next, setNext] = useState(first.nextSeq);
  const [error, setError] = useState<string | null>(null);
  // A long run has thousands of trades: the first 50 keep the page readable, the rest on request.
  const [shown, setShown] = useState(50);
  const all = useMemo(() => [...first.items, ...more], [first.items, more]);
  const rows = all.slice(0, shown);
  const loadMore = async () => {
    setShown((n) => n + 200);
    if (all.length > shown + 200 || next === null) return;
    try {
      const page = await api<BacktestTradePage>(
        apiPath(routes.backtestTrades(id), { afterSeq: next, limit: 1000 }),
      );
      setMore((m) => [...m, ...page.items]);
      setNext(page.nextSeq);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Panel title={`Trades (${all.length}${next !== null ? '+' : ''})`}>
      {rows.length === 0 ? (
        <p className="state state-empty">The strategy made no trades in this range.</p>
      ) : (
        <Table caption="Backtest trades" columns={tradeColumns} rows={rows} rowKey={(t) => t.seq} />
      )}
      {error ? <p className="form-error">{error}</p> : null}
      {next !== null || all.length > shown ? (
        <div className="pager">
          <span>
            Showing {rows.length} of {all.length}
            {next !== null ? '+' : ''}
          </span>
          <button type="button" className="btn btn-small" onClick={loadMore}>
            Show more trades
          </button>
        </div>
      ) : null}
    </Panel>
  );
}

export default function BacktestDetailPage({ id }: { id: string }) {
  // Live events refresh a running backtest; the interval is the fallback when the stream is down.
  const { data, error, mutate } = useSWR<BacktestResult>(routes.backtest(id), {
    refreshInterval: (d) => (d && (d.status === 'queued' || d.status === 'running') ? 3000 : 0),
  });
  const lines = useMemo(() => (data?.series ? curveLines(data.series) : null), [data?.series]);
  return (
    <Async data={data} error={error} retry={() => mutate()} loadingLabel="Loading backtest…">
      {(b) => (
        <div className="stack">
          <p className="row">
            <a href="#/backtests">← All backtests</a>
            {b.sweepId ? <a href={`#/backtests?sweep=${b.sweepId}`}>Sweep #{b.sweepId}</a> : null}
          </p>
          <Panel
            title={b.name ?? `${b.strategy} on ${b.symbols.join(', ')}`}
            actions={<BacktestState b={b} />}
          >
            <dl className="kv">
              <dt>Strategy</dt>
              <dd>
                {b.strategy} <code>{paramsText(b.params)}</code>
              </dd>
              <dt>Market</dt>
              <dd>
                {b.symbols.join(', ')} · {b.timeframe} ·{' '}
                {b.series?.times.length
                  ? `${date(new Date(b.series.times[0]).toISOString())} – ${date(new Date(b.series.times[b.series.times.length - 1]).toISOString())}`
                  : `${b.config.from ? date(b.config.from) : 'first bar'} – ${b.config.to ? date(b.config.to) : 'last bar'}`}
              </dd>
              <dt>Money</dt>
              <dd>
                {money(b.config.cash)} start · sizing {b.config.sizing.type.replace(/_/g, ' ')} · fills at{' '}
                {b.config.fillAt.replace(/_/g, ' ')} · slippage {b.config.slippageBps} bps
              </dd>
              {b.error ? (
                <>
                  <dt>Error</dt>
                  <dd className="error-text">{b.error}</dd>
                </>
              ) : null}
            </dl>
          </Panel>
          {b.metrics ? (
            <>
              <MetricCards m={b.metrics} />
              <AllMetrics m={b.metrics} />
            </>
          ) : b.status === 'failed' ? null : (
            <p className="state" role="status">
              <span className="spinner" aria-hidden="true" /> The backtest is {b.status}; results appear when
              it finishes.
            </p>
          )}
          {lines ? (
            <div className="page-grid two">
              <Panel title="Equity">
                <Chart label="Equity curve against buy and hold" height={260} lines={lines.equity} />
              </Panel>
              <Panel title="Drawdown">
                <Chart label="Drawdown from the running peak" height={260} lines={lines.drawdown} />
              </Panel>
            </div>
          ) : null}
          {b.status === 'completed' ? <PriceWithTrades result={b} trades={b.trades.items} /> : null}
          {b.status === 'completed' ? <Trades id={id} first={b.trades} /> : null}
        </div>
      )}
    </Async>
  );
}
