/**
 * Display formatting. Balances arrive as decimal strings; they are only ever turned into numbers here, to be
 * printed — the browser does no money arithmetic that could be written back.
 */
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2 });
const signedUsd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  signDisplay: 'exceptZero',
});
const compactUsd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  notation: 'compact',
  maximumFractionDigits: 1,
  signDisplay: 'exceptZero',
});
const qtyFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 8 });
const pctFmt = new Intl.NumberFormat('en-US', {
  style: 'percent',
  maximumFractionDigits: 2,
  signDisplay: 'exceptZero',
});
const numFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });

const DASH = '—';

function toNumber(v: string | number | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export function money(v: string | number | null | undefined): string {
  const n = toNumber(v);
  return n === null ? DASH : usd.format(n);
}

/** P&L: always signed so gains and losses read at a glance. */
export function pnl(v: string | number | null | undefined): string {
  const n = toNumber(v);
  return n === null ? DASH : signedUsd.format(n);
}

export function compactPnl(v: number): string {
  return compactUsd.format(v);
}

export function qty(v: string | number | null | undefined): string {
  const n = toNumber(v);
  return n === null ? DASH : qtyFmt.format(n);
}

export function num(v: string | number | null | undefined): string {
  const n = toNumber(v);
  return n === null ? DASH : numFmt.format(n);
}

/** A fraction (0.0523) as a signed percentage (+5.23%). */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? DASH : pctFmt.format(v);
}

const rateFmt = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 2 });
/** A share (win rate, exposure) as an unsigned percentage: 0.3387 → 33.87%. */
export function rate(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? DASH : rateFmt.format(v);
}

/** Sign class for colouring P&L: 'pos', 'neg' or ''. */
export function tone(v: string | number | null | undefined): 'pos' | 'neg' | '' {
  const n = toNumber(v);
  if (n === null || n === 0) return '';
  return n > 0 ? 'pos' : 'neg';
}

const dateTimeFmt = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});
// This year's instants leave the year out: tables stay narrow enough for a phone.
const dateTimeThisYearFmt = new Intl.DateTimeFormat('en-GB', {
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});
const timeFmt = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});
const dateFmt = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: '2-digit' });

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  return d.getFullYear() === new Date().getFullYear() ? dateTimeThisYearFmt.format(d) : dateTimeFmt.format(d);
}

export function time(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? DASH : timeFmt.format(d);
}

export function date(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? DASH : dateFmt.format(d);
}

/** "3s ago", "5m ago": for health and last-run cells. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return DASH;
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}
