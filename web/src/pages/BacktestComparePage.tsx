import type { BacktestComparison, BacktestMetrics } from '@weaver/shared/schemas';
import { useMemo } from 'react';
import useSWR from 'swr';
import { apiPath } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import type { LineSpec } from '../charts/TimeChart.tsx';
import { Chart } from '../components/Chart.tsx';
import { Panel } from '../components/Panel.tsx';
import { Async } from '../components/states.tsx';
import { money, num, pct, rate } from '../lib/format.ts';
import { SERIES_COLORS } from './BacktestDetailPage.tsx';
import { paramsText } from './BacktestsPage.tsx';

type Item = BacktestComparison['items'][number];

/** The rows of the comparison: how to print each metric and which way is better. */
const ROWS: Array<{
  key: keyof BacktestMetrics;
  label: string;
  fmt: (v: number) => string;
  /** Which way is better; `none` for figures that are neither good nor bad in themselves. */
  better: 'high' | 'low' | 'none';
}> = [
  { key: 'totalReturn', label: 'Total return', fmt: pct, better: 'high' },
  { key: 'cagr', label: 'CAGR', fmt: pct, better: 'high' },
  { key: 'netProfit', label: 'Net profit', fmt: money, better: 'high' },
  { key: 'sharpe', label: 'Sharpe', fmt: num, better: 'high' },
  { key: 'sortino', label: 'Sortino', fmt: num, better: 'high' },
  { key: 'calmar', label: 'Calmar', fmt: num, better: 'high' },
  { key: 'maxDrawdown', label: 'Max drawdown', fmt: (v) => pct(-Math.abs(v)), better: 'low' },
  { key: 'annualVolatility', label: 'Volatility (annual)', fmt: rate, better: 'low' },
  { key: 'trades', label: 'Trades', fmt: num, better: 'none' },
  { key: 'winRate', label: 'Win rate', fmt: rate, better: 'high' },
  { key: 'profitFactor', label: 'Profit factor', fmt: num, better: 'high' },
  { key: 'expectancy', label: 'Expectancy', fmt: money, better: 'high' },
  { key: 'exposure', label: 'Exposure', fmt: rate, better: 'none' },
  { key: 'totalFees', label: 'Fees', fmt: money, better: 'low' },
];

function metric(item: Item, key: keyof BacktestMetrics): number | null {
  const v = item.metrics?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? (key === 'maxDrawdown' ? Math.abs(v) : v) : null;
}

function label(item: Item): string {
  return `#${item.id} ${item.name ?? item.strategy}`;
}

export default function BacktestComparePage({ ids }: { ids: string }) {
  const list = ids
    .split(',')
    .map((x) => x.trim())
    .filter((x) => /^\d+$/.test(x));
  const { data, error, mutate } = useSWR<BacktestComparison>(
    list.length ? apiPath(routes.compareBacktests, { ids: list.join(',') }) : null,
  );
  // Curves as returns from each run's start, so runs with different cash share one axis.
  const lines = useMemo(() => {
    const equity: LineSpec[] = [];
    const drawdown: LineSpec[] = [];
    for (const [i, item] of (data?.items ?? []).entries()) {
      const s = item.series;
      if (!s || s.equity.length === 0) continue;
      const start = s.equity[0] || 1;
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      const t = s.times.map((ms) => Math.floor(ms / 1000));
      equity.push({
        id: `e${item.id}`,
        title: `#${item.id}`,
        color,
        percent: true,
        data: s.equity.map((v, j) => ({ time: t[j], value: v / start - 1 })),
      });
      drawdown.push({
        id: `d${item.id}`,
        title: `#${item.id}`,
        color,
        percent: true,
        data: s.drawdown.map((v, j) => ({ time: t[j], value: -Math.abs(v) || 0 })),
      });
    }
    return { equity, drawdown };
  }, [data]);

  if (list.length < 2) {
    return (
      <p className="state state-empty">
        Pick two or more completed backtests on the <a href="#/backtests">Backtests</a> page to compare them.
      </p>
    );
  }

  return (
    <Async
      data={data}
      error={error}
      retry={() => mutate()}
      isEmpty={(d) => d.items.length === 0}
      empty="None of these backtests exists any more."
    >
      {(d) => (
        <div className="stack">
          <p>
            <a href="#/backtests">← All backtests</a>
          </p>
          <Panel title="Side by side">
            <section
              className="table-scroll"
              aria-label="Metrics of the compared backtests table"
              // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
              tabIndex={0}
            >
              <table className="table">
                <caption className="sr-only">
                  Metrics of the compared backtests; the best value of each row is bold
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    {d.items.map((item, i) => (
                      <th scope="col" key={item.id} className="num">
                        <span
                          className="legend-swatch"
                          style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }}
                          aria-hidden="true"
                        />
                        <a href={`#/backtests/${item.id}`}>{label(item)}</a>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    <th scope="row">Parameters</th>
                    {d.items.map((item) => (
                      <td key={item.id} className="num">
                        <code>{paramsText(item.params)}</code>
                      </td>
                    ))}
                  </tr>
                  <tr>
                    <th scope="row">Symbols</th>
                    {d.items.map((item) => (
                      <td key={item.id} className="num">
                        {item.symbols.join(', ')} · {item.timeframe}
                      </td>
                    ))}
                  </tr>
                  {ROWS.map((row) => {
                    const values = d.items.map((item) => metric(item, row.key));
                    const present = values.filter((v): v is number => v !== null);
                    // Bold marks the best when there is one: not on a tie, not for neutral figures.
                    const best =
                      row.better !== 'none' && present.length > 1 && new Set(present).size > 1
                        ? row.better === 'high'
                          ? Math.max(...present)
                          : Math.min(...present)
                        : null;
                    return (
                      <tr key={row.key}>
                        <th scope="row">{row.label}</th>
                        {values.map((v, i) => (
                          <td key={d.items[i].id} className={`num ${v !== null && v === best ? 'best' : ''}`}>
                            {v === null ? '—' : row.fmt(v)}
                          </td>
                        ))}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          </Panel>
          {lines.equity.length ? (
            <div className="page-grid two">
              <Panel title="Return">
                <Chart label="Return of each compared backtest over time" height={280} lines={lines.equity} />
              </Panel>
              <Panel title="Drawdown">
                <Chart
                  label="Drawdown of each compared backtest over time"
                  height={280}
                  lines={lines.drawdown}
                />
              </Panel>
            </div>
          ) : null}
        </div>
      )}
    </Async>
  );
}
