import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type MouseEventParams,
  type SeriesMarker,
  type SeriesType,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef, useState } from 'react';
import { ascendingUnique, type Candle, labelsThatFit, type Point, type TradeMark } from './series.ts';

export interface LineSpec {
  id: string;
  title: string;
  color: string;
  data: Point[];
  /** Filled area under the line (equity, drawdown). */
  area?: boolean;
  /** Format the price axis as a percentage (values are fractions). */
  percent?: boolean;
  /** Format the price axis as dollars with thousands separators. */
  money?: boolean;
}

const dollars = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumFractionDigits: 2,
});
// Two decimals: drawdowns of a fraction of a percent would otherwise print the same tick label twice.
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 2 });

export interface TimeChartProps {
  /** What the chart shows, for screen readers (the canvas itself says nothing). */
  label: string;
  height?: number;
  candles?: Candle[];
  lines?: LineSpec[];
  /** Drawn on the candles, or on the first line when there are none. */
  markers?: TradeMark[];
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const ts = (t: number) => t as UTCTimestamp;

/**
 * One canvas chart (TradingView lightweight-charts) for every time series in the dashboard: candles with
 * overlays and trade markers, equity and drawdown curves. Colours follow the page's theme variables.
 */
export default function TimeChart({
  label,
  height = 300,
  candles,
  lines = [],
  markers = [],
}: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);
  /** The trades of the candle under the pointer, as a tooltip. */
  const [tip, setTip] = useState<{ x: number; y: number; w: number; lines: string[] } | null>(null);

  useEffect(() => {
    if (!box.current) return;
    const text = cssVar('--text-muted', '#9aa4b2');
    const grid = cssVar('--grid', 'rgba(128,128,128,0.15)');
    const chart = createChart(box.current, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: text,
        fontSize: 11,
        fontFamily: cssVar('--font', 'system-ui, sans-serif'),
        attributionLogo: false,
      },
      grid: { vertLines: { color: grid }, horzLines: { color: grid } },
      rightPriceScale: { borderVisible: false },
      timeScale: { borderVisible: false, timeVisible: true, secondsVisible: false },
      crosshair: { mode: 1 },
    });
    chartRef.current = chart;
    return () => {
      chartRef.current = null;
      chart.remove();
    };
  }, []);

  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    const up = cssVar('--pos', '#22c55e');
    const down = cssVar('--neg', '#ef4444');
    const added: ISeriesApi<SeriesType>[] = [];
    let markerHost: ISeriesApi<SeriesType> | null = null;

    if (candles && candles.length > 0) {
      const s = chart.addSeries(CandlestickSeries, {
        upColor: up,
        downColor: down,
        wickUpColor: up,
        wickDownColor: down,
        borderVisible: false,
      });
      // The library refuses unordered or repeated times (two points in one second): keep the last of each.
      s.setData(ascendingUnique(candles).map((c) => ({ ...c, time: ts(c.time) })));
      added.push(s);
      markerHost = s;
    }
    for (const l of lines) {
      const priceFormat = l.percent
        ? { type: 'custom' as const, formatter: (v: number) => percent.format(v), minMove: 0.00001 }
        : l.money
          ? { type: 'custom' as const, formatter: (v: number) => dollars.format(v), minMove: 0.01 }
          : undefined;
      const common = { title: l.title, priceLineVisible: false, lastValueVisible: true, priceFormat };
      const s = l.area
        ? chart.addSeries(AreaSeries, {
            ...common,
            lineColor: l.color,
            topColor: `${l.color}55`,
            bottomColor: `${l.color}08`,
            lineWidth: 2,
          })
        : chart.addSeries(LineSeries, { ...common, color: l.color, lineWidth: 1 });
      s.setData(ascendingUnique(l.data).map((p) => ({ time: ts(p.time), value: p.value })));
      added.push(s);
      markerHost ??= s;
    }
    const unsubscribe: (() => void)[] = [];
    let relabel: (() => void) | undefined;
    if (markerHost && markers.length > 0) {
      const host = markerHost;
      const shapes: SeriesMarker<Time>[] = markers.map((x) => ({
        time: ts(x.time),
        position: x.side === 'buy' ? 'belowBar' : 'aboveBar',
        shape: x.side === 'buy' ? 'arrowUp' : 'arrowDown',
        color: x.side === 'buy' ? up : down,
      }));
      const plugin = createSeriesMarkers(host, shapes);
      const scale = chart.timeScale();
      // Labels only where they have room at the current zoom: piled-up text is unreadable.
      relabel = () => {
        const fits = labelsThatFit(
          markers.map((m) => scale.timeToCoordinate(ts(m.time))),
          markers.map((m) => m.text),
          scale.width(),
        );
        plugin.setMarkers(shapes.map((m, i) => (fits[i] ? { ...m, text: markers[i].text } : m)));
      };
      const onChange = relabel;
      scale.subscribeVisibleLogicalRangeChange(onChange);
      scale.subscribeSizeChange(onChange);
      unsubscribe.push(() => {
        scale.unsubscribeVisibleLogicalRangeChange(onChange);
        scale.unsubscribeSizeChange(onChange);
      });
      const byTime = new Map<number, string[]>();
      for (const m of markers) {
        const line = m.text ?? (m.side === 'buy' ? 'buy' : 'sell');
        byTime.set(m.time, [...(byTime.get(m.time) ?? []), line]);
      }
      const hover = (p: MouseEventParams<Time>) => {
        const lines = p.point && typeof p.time === 'number' ? byTime.get(p.time) : undefined;
        const w = box.current?.clientWidth ?? scale.width();
        setTip(lines && p.point ? { x: p.point.x, y: p.point.y, w, lines } : null);
      };
      chart.subscribeCrosshairMove(hover);
      unsubscribe.push(() => chart.unsubscribeCrosshairMove(hover));
    }
    chart.timeScale().fitContent();
    relabel?.();
    return () => {
      // On unmount the chart is already gone (its effect is cleaned up first): nothing to remove from.
      if (chartRef.current !== chart) return;
      for (const u of unsubscribe) u();
      setTip(null);
      for (const s of added) chart.removeSeries(s);
    };
  }, [candles, lines, markers]);

  return (
    <figure className="chart" style={{ height }} aria-label={label} role="img">
      <div ref={box} className="chart-canvas" />
      {tip ? (
        <div
          className="chart-tip"
          aria-hidden="true"
          // Beside the pointer, on the side with room.
          style={{
            ...(tip.x < tip.w * 0.6 ? { left: tip.x + 14 } : { right: tip.w - tip.x + 14 }),
            top: Math.max(0, tip.y - 10 - 16 * Math.min(7, tip.lines.length)),
          }}
        >
          {tip.lines.slice(0, 6).map((l, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines of one tooltip, never reordered
            <div key={i}>{l}</div>
          ))}
          {tip.lines.length > 6 ? <div>+{tip.lines.length - 6} more</div> : null}
        </div>
      ) : null}
    </figure>
  );
}
