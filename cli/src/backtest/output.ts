/** Readable output for the backtest commands: aligned tables and number formats. */
import type { Timeframe } from '@weaver/shared/schemas';

export function table(head: string[], rows: (string | number)[][], align: ('l' | 'r')[] = []): string {
  const cells = rows.map((r) => r.map(String));
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => ((align[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c.padEnd(w[i]) : c.padStart(w[i])))
      .join('  ')
      .trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...cells.map(line)].join('\n');
}

export const pct = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`;
export const num = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined
    ? '—'
    : Math.abs(x) >= 1e6
      ? x.toExponential(3)
      : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = ms / 86_400_000;
  if (d >= 1) return `${d.toFixed(1)} d`;
  const h = ms / 3_600_000;
  if (h >= 1) return `${h.toFixed(1)} h`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Bar instants as people write them for the timeframe: a date for daily and weekly bars. */
export function when(iso: string | null, timeframe: Timeframe): string | null {
  if (iso === null) return null;
  return timeframe === '1Day' || timeframe === '1Week' ? iso.slice(0, 10) : iso;
}
