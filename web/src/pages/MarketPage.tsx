import type { BarSeriesList, BarsResponse, TradePage } from '@weaver/shared/schemas';
import { useId, useMemo, useState } from 'react';
import useSWR from 'swr';
import { apiPath } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import { navigate, type Route } from '../app/router.ts';
import { bollinger, type Candle, candlesOf, ema, sma, snapToCandles, toSeconds } from '../charts/series.ts';
import type { LineSpec } from '../charts/TimeChart.tsx';
import { Chart } from '../components/Chart.tsx';
import { Panel } from '../components/Panel.tsx';
import { Async } from '../components/states.tsx';
import { dateTime, num } from '../lib/format.ts';

const RANGES = [
  { id: '1d', label: '1D', ms: 86_400_000 },
  { id: '1w', label: '1W', ms: 7 * 86_400_000 },
  { id: '1m', label: '1M', ms: 30 * 86_400_000 },
  { id: '3m', label: '3M', ms: 91 * 86_400_000 },
  { id: '1y', label: '1Y', ms: 365 * 86_400_000 },
  { id: 'all', label: 'All', ms: 0 },
] as const;

const OVERLAYS = [
  { id: 'sma20', label: 'SMA 20', color: '#fbbf24' },
  { id: 'ema50', label: 'EMA 50', color: '#c084fc' },
  { id: 'bb20', label: 'Bollinger 20, 2σ', color: '#38bdf8' },
] as const;
type OverlayId = (typeof OVERLAYS)[number]['id'];

/** A first view with enough candles to read: a day of minutes, a month of hours, a year of days. */
function defaultRange(timeframe: string): string {
  if (timeframe.endsWith('Min')) return '1d';
  if (timeframe.endsWith('Hour')) return '1m';
  return '1y';
}

function overlayLines(candles: Candle[], on: Set<OverlayId>): LineSpec[] {
  const lines: LineSpec[] = [];
  for (const o of OVERLAYS) {
    if (!on.has(o.id)) continue;
    if (o.id === 'sma20') lines.push({ id: o.id, title: 'SMA 20', color: o.color, data: sma(candles, 20) });
    if (o.id === 'ema50') lines.push({ id: o.id, title: 'EMA 50', color: o.color, data: ema(candles, 50) });
    if (o.id === 'bb20') {
      const bb = bollinger(candles, 20, 2);
      lines.push({ id: 'bbu', title: 'BB upper', color: o.color, data: bb.upper });
      lines.push({ id: 'bbl', title: 'BB lower', color: o.color, data: bb.lower });
    }
  }
  return lines;
}

function PriceChart({
  symbol,
  timeframe,
  range,
  lastBar,
}: {
  symbol: string;
  timeframe: string;
  range: string;
  /** Newest stored bar: ranges count back from the data, not from now (imported history, a paused feed). */
  lastBar: string;
}) {
  const [on, setOn] = useState<Set<OverlayId>>(new Set(['sma20']));
  const r = RANGES.find((x) => x.id === range) ?? RANGES[2];
  const from = r.ms ? new Date(new Date(lastBar).getTime() - r.ms).toISOString() : undefined;
  const bars = useSWR<BarsResponse>(apiPath(routes.bars, { symbol, timeframe, from, width: 600 }));
  const trades = useSWR<TradePage>(apiPath(routes.trades, { symbol, from, limit: 500 }));

  const candles = useMemo(() => candlesOf(bars.data?.bars ?? []), [bars.data]);
  const lines = useMemo(() => overlayLines(candles, on), [candles, on]);
  const markers = useMemo(
    () =>
      snapToCandles(
        (trades.data?.items ?? []).map((t) => ({
          time: toSeconds(t.executedAt),
          side: t.side,
          // Shown beside the arrow where it fits, else on hover.
          text: `${t.side === 'buy' ? 'B' : 'S'} ${num(t.qty)} @ ${num(t.price)}`,
        })),
        candles.map((c) => c.time),
        (bars.data?.bucketMs ?? 60_000) / 1000,
      ),
    [trades.data, candles, bars.data],
  );
  const last = bars.data?.bars[bars.data.bars.length - 1];

  return (
    <>
      <div className="row" style={{ marginBottom: 8 }}>
        <fieldset className="segmented">
          <legend className="sr-only">Overlays</legend>
          {OVERLAYS.map((o) => (
            <button
              key={o.id}
              type="button"
              aria-pressed={on.has(o.id)}
              onClick={() => {
                const next = new Set(on);
                if (next.has(o.id)) next.delete(o.id);
                else next.add(o.id);
                setOn(next);
              }}
            >
              <span className="legend-swatch" style={{ background: o.color }} aria-hidden="true" />
              {o.label}
            </button>
          ))}
        </fieldset>
        <span className="spacer" />
        {last ? (
          <span className="muted">
            Last {num(last.close)} · {dateTime(last.time)}
            {bars.data?.downsampled ? ` · ${Math.round((bars.data.bucketMs ?? 0) / 60_000)} min candles` : ''}
          </span>
        ) : null}
      </div>
      <Async
        data={bars.data}
        error={bars.error}
        retry={() => bars.mutate()}
        isEmpty={(d) => d.bars.length === 0}
        empty={`No ${timeframe} bars for ${symbol} in this range.`}
      >
        {() => (
          <Chart
            label={`${symbol} ${timeframe} candles with ${markers.length} trades marked`}
            height={440}
            candles={candles}
            lines={lines}
            markers={markers}
          />
        )}
      </Async>
      <p className="muted" style={{ marginTop: 8 }}>
        {trades.data ? `${markers.length} of the bot's trades in view (▲ buy, ▼ sell).` : ''}
      </p>
    </>
  );
}

export default function MarketPage({ route }: { route: Route }) {
  const id = useId();
  const series = useSWR<BarSeriesList>(routes.barSeries);
  const items = series.data?.items ?? [];
  const symbols = [...new Set(items.map((s) => s.symbol))].sort();
  const symbol = route.query.get('symbol') ?? symbols[0] ?? '';
  const timeframes = items.filter((s) => s.symbol === symbol).map((s) => s.timeframe);
  const timeframe = route.query.get('timeframe') ?? timeframes[0] ?? '';
  const range = route.query.get('range') ?? defaultRange(timeframe);
  const current = items.find((s) => s.symbol === symbol && s.timeframe === timeframe);
  const go = (patch: Record<string, string>) =>
    navigate('/market', { symbol, timeframe, range, ...patch }, true);

  return (
    <Panel title="Chart">
      <Async
        data={series.data}
        error={series.error}
        retry={() => series.mutate()}
        isEmpty={(d) => d.items.length === 0}
        empty="No market data is stored yet. Bars appear once fetch-bars has run (or import some with weaver import)."
      >
        {() => (
          <>
            <div className="filters">
              <div className="field">
                <label htmlFor={`${id}-symbol`}>Symbol</label>
                <select
                  id={`${id}-symbol`}
                  value={symbol}
                  onChange={(e) => {
                    const tfs = items
                      .filter((s) => s.symbol === e.target.value)
                      .map((s) => s.timeframe as string);
                    go({
                      symbol: e.target.value,
                      timeframe: tfs.includes(timeframe) ? timeframe : (tfs[0] ?? ''),
                    });
                  }}
                >
                  {symbols.map((s) => (
                    <option key={s}>{s}</option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`${id}-tf`}>Timeframe</label>
                <select id={`${id}-tf`} value={timeframe} onChange={(e) => go({ timeframe: e.target.value })}>
                  {timeframes.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
              </div>
              <fieldset className="segmented" style={{ alignSelf: 'flex-end' }}>
                <legend className="sr-only">Range</legend>
                {RANGES.map((r) => (
                  <button
                    key={r.id}
                    type="button"
                    aria-pressed={range === r.id}
                    onClick={() => go({ range: r.id })}
                  >
                    {r.label}
                  </button>
                ))}
              </fieldset>
            </div>
            {current ? (
              <PriceChart
                key={`${symbol}:${timeframe}`}
                symbol={symbol}
                timeframe={timeframe}
                range={range}
                lastBar={current.last}
              />
            ) : (
              <p className="state state-empty">
                No {timeframe} bars stored for {symbol}.
              </p>
            )}
          </>
        )}
      </Async>
    </Panel>
  );
}
