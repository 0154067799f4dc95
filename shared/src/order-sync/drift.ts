/**
 * Differences between Weaver's books and the venue, kept in exchange_drift (0200) and confirmed through
 * exchange_drift_sightings (0202): a difference is recorded, and announced, only when two consecutive
 * comparisons found the same difference. One comparison can catch a fill the venue reported a moment
 * before Weaver booked it; two in a row find a real difference. An open drift whose difference is
 * unchanged is the same drift, however the totals on both sides moved with trading; it is announced
 * once, again when its difference changes (confirmed the same way), and resolved as soon as a
 * comparison finds none.
 */
import type { Sql } from 'postgres';
import { abs, cmp, eq, isZero, sub } from '../money/index.ts';

export type DriftKind = 'position' | 'cash';

export interface Difference {
  kind: DriftKind;
  symbol: string;
  expected: string;
  actual: string;
  /** actual − expected */
  difference: string;
}

export interface Drift extends Difference {
  /** new: first recorded this run; changed: recorded before with another difference; ongoing: unchanged. */
  state: 'new' | 'changed' | 'ongoing';
}

export interface Judged {
  /** Recorded differences (open in exchange_drift). */
  drift: Array<Drift & { rowId: number }>;
  /** Differences seen for the first time this run: recorded if the next run sees them again. */
  unconfirmed: Difference[];
  resolved: number;
}

interface OpenRow {
  id: number;
  symbol: string;
  difference: string;
}

interface SightingRow {
  symbol: string;
  difference: string;
}

/**
 * Compares `expected` with `actual` for every symbol of one kind at `exchange`, given as symbol →
 * values; a symbol absent from `values` but open or sighted before counts as 0 on both sides. Runs in
 * the caller's transaction, which must hold the exchange's reconciliation lock.
 */
export async function judgeDrift(
  tx: Sql,
  exchange: string,
  kind: DriftKind,
  values: ReadonlyMap<string, { expected: string; actual: string }>,
  tolerance: string,
): Promise<Judged> {
  const [open, sighted] = await Promise.all([
    tx<OpenRow[]>`
      SELECT id, symbol, difference FROM exchange_drift
      WHERE exchange = ${exchange} AND kind = ${kind} AND resolved_at IS NULL
      FOR UPDATE`,
    // The previous comparison's sightings are replaced by this one's.
    tx<SightingRow[]>`
      DELETE FROM exchange_drift_sightings WHERE exchange = ${exchange} AND kind = ${kind}
      RETURNING symbol, difference`,
  ]);
  const openBySymbol = new Map(open.map((r) => [r.symbol, r]));
  const previous = new Map(sighted.map((r) => [r.symbol, r.difference]));
  const symbols = new Set([...values.keys(), ...openBySymbol.keys()]);
  const out: Judged = { drift: [], unconfirmed: [], resolved: 0 };

  for (const symbol of [...symbols].sort()) {
    const { expected, actual } = values.get(symbol) ?? { expected: '0', actual: '0' };
    const difference = sub(actual, expected);
    const row = openBySymbol.get(symbol);
    if (isZero(difference) || cmp(abs(difference), tolerance) < 0) {
      if (row) {
        await tx`UPDATE exchange_drift SET resolved_at = now(), last_seen_at = now() WHERE id = ${row.id}`;
        out.resolved++;
      }
      continue;
    }
    const d: Difference = { kind, symbol, expected, actual, difference };
    await tx`
      INSERT INTO exchange_drift_sightings (exchange, kind, symbol, expected, actual, difference)
      VALUES (${exchange}, ${kind}, ${symbol}, ${expected}, ${actual}, ${difference})`;
    if (row && eq(row.difference, difference)) {
      await tx`
        UPDATE exchange_drift SET expected = ${expected}, actual = ${actual}, last_seen_at = now() WHERE id = ${row.id}`;
      out.drift.push({ ...d, state: 'ongoing', rowId: row.id });
      continue;
    }
    const seenBefore = previous.get(symbol);
    if (seenBefore === undefined || !eq(seenBefore, difference)) {
      // First sighting of this difference. A recorded drift stays as it was until the new value is confirmed.
      out.unconfirmed.push(d);
      if (row) await tx`UPDATE exchange_drift SET last_seen_at = now() WHERE id = ${row.id}`;
      continue;
    }
    if (row) {
      await tx`
        UPDATE exchange_drift SET expected = ${expected}, actual = ${actual}, difference = ${difference},
          last_seen_at = now()
        WHERE id = ${row.id}`;
      out.drift.push({ ...d, state: 'changed', rowId: row.id });
      continue;
    }
    const [inserted] = await tx<{ id: number }[]>`
      INSERT INTO exchange_drift (exchange, kind, symbol, expected, actual, difference)
      VALUES (${exchange}, ${kind}, ${symbol}, ${expected}, ${actual}, ${difference})
      RETURNING id`;
    out.drift.push({ ...d, state: 'new', rowId: inserted.id });
  }
  return out;
}
