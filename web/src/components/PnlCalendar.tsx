import type { PnlCalendar as PnlCalendarData } from '@weaver/shared/schemas';
import { useState } from 'react';
import useSWR from 'swr';
import { apiPath } from '../api/client.ts';
import { routes } from '../api/routes.ts';
import type { PnlBucket } from '../api/types.ts';
import { compactPnl, pnl, tone } from '../lib/format.ts';
import { Async } from './states.tsx';

type Period = 'day' | 'week' | 'month';

const iso = (d: Date) => d.toISOString().slice(0, 10);
const utc = (y: number, m: number, d = 1) => new Date(Date.UTC(y, m, d));
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The range a view shows: a month of days, the last 16 weeks, or a year of months (UTC, as the buckets). */
function rangeFor(period: Period, anchor: Date): { from: Date; to: Date } {
  const y = anchor.getUTCFullYear();
  const m = anchor.getUTCMonth();
  if (period === 'day') return { from: utc(y, m, 1), to: utc(y, m + 1, 0) };
  if (period === 'month') return { from: utc(y, 0, 1), to: utc(y, 11, 31) };
  const monday = utc(y, m, anchor.getUTCDate() - ((anchor.getUTCDay() + 6) % 7));
  return {
    from: new Date(monday.getTime() - 15 * 7 * 86_400_000),
    to: new Date(monday.getTime() + 6 * 86_400_000),
  };
}

function shift(period: Period, anchor: Date, dir: -1 | 1): Date {
  const y = anchor.getUTCFullYear();
  const m = anchor.getUTCMonth();
  if (period === 'day') return utc(y, m + dir, 1);
  if (period === 'month') return utc(y + dir, m, 1);
  return new Date(anchor.getTime() + dir * 16 * 7 * 86_400_000);
}

function Cell({ label, bucket, dim }: { label: string; bucket?: PnlBucket; dim?: boolean }) {
  const value = bucket?.realizedPnl;
  const t = tone(value);
  const title = bucket
    ? `${label}: ${pnl(value)} over ${bucket.trades} trade${bucket.trades === 1 ? '' : 's'}`
    : label;
  return (
    <div className={`cal-cell ${t ? `cal-${t}` : ''} ${dim ? 'cal-dim' : ''}`} title={title}>
      <span className="cal-label">{label}</span>
      <span className={`cal-value ${t}`}>{bucket ? compactPnl(Number(value)) : ''}</span>
      <span className="sr-only">{bucket ? `${pnl(value)}, ${bucket.trades} trades` : 'no trades'}</span>
    </div>
  );
}

/** Realised P&L per day (month grid), week or month, from the gateway's UTC buckets. */
export function PnlCalendar() {
  const [period, setPeriod] = useState<Period>('day');
  const [anchor, setAnchor] = useState(() => new Date());
  const { from, to } = rangeFor(period, anchor);
  const key = apiPath(routes.pnl, { period, from: iso(from), to: iso(to) });
  const { data, error, mutate } = useSWR<PnlCalendarData>(key);
  const byStart = new Map((data?.buckets ?? []).map((b) => [b.start, b]));
  const title =
    period === 'day'
      ? `${MONTHS[from.getUTCMonth()]} ${from.getUTCFullYear()}`
      : period === 'month'
        ? String(from.getUTCFullYear())
        : `${iso(from)} – ${iso(to)}`;
  const total = (data?.buckets ?? []).reduce((s, b) => s + Number(b.realizedPnl), 0);

  return (
    <div className="calendar">
      <div className="calendar-bar">
        <fieldset className="segmented">
          <legend className="sr-only">Period</legend>
          {(['day', 'week', 'month'] as const).map((p) => (
            <button key={p} type="button" aria-pressed={period === p} onClick={() => setPeriod(p)}>
              {p === 'day' ? 'Daily' : p === 'week' ? 'Weekly' : 'Monthly'}
            </button>
          ))}
        </fieldset>
        <div className="calendar-nav">
          <button
            type="button"
            className="btn btn-small btn-ghost"
            aria-label="Previous"
            onClick={() => setAnchor(shift(period, anchor, -1))}
          >
            ‹
          </button>
          <span className="calendar-title" aria-live="polite">
            {title}
          </span>
          <button
            type="button"
            className="btn btn-small btn-ghost"
            aria-label="Next"
            onClick={() => setAnchor(shift(period, anchor, 1))}
          >
            ›
          </button>
        </div>
        <span className={`calendar-total ${tone(total)}`}>{data ? pnl(total) : ''}</span>
      </div>
      <Async data={data} error={error} retry={() => mutate()}>
        {() => {
          if (period === 'day') {
            const lead = (from.getUTCDay() + 6) % 7;
            const days = to.getUTCDate();
            return (
              <div className="cal-grid cal-days">
                {WEEKDAYS.map((d) => (
                  <div key={d} className="cal-head" aria-hidden="true">
                    {d}
                  </div>
                ))}
                {Array.from({ length: lead }, (_, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: fixed padding cells
                  <div key={`pad${i}`} className="cal-pad" aria-hidden="true" />
                ))}
                {Array.from({ length: days }, (_, i) => {
                  const day = iso(utc(from.getUTCFullYear(), from.getUTCMonth(), i + 1));
                  return <Cell key={day} label={String(i + 1)} bucket={byStart.get(day)} />;
                })}
              </div>
            );
          }
          if (period === 'month') {
            return (
              <div className="cal-grid cal-months">
                {MONTHS.map((m, i) => (
                  <Cell key={m} label={m} bucket={byStart.get(iso(utc(from.getUTCFullYear(), i, 1)))} />
                ))}
              </div>
            );
          }
          const weeks = Array.from({ length: 16 }, (_, i) =>
            iso(new Date(from.getTime() + i * 7 * 86_400_000)),
          );
          return (
            <div className="cal-grid cal-weeks">
              {weeks.map((w) => (
                <Cell key={w} label={w.slice(5)} bucket={byStart.get(w)} />
              ))}
            </div>
          );
        }}
      </Async>
    </div>
  );
}
