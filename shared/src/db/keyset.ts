/**
 * Keyset pagination over (instant, id), newest first. Postgres keeps microseconds and a JS Date only
 * milliseconds, so the cursor carries the instant as integer microseconds since the epoch: a page
 * boundary inside one millisecond neither skips nor repeats a row.
 */
import type { Sql } from 'postgres';

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next (older) page, null on the last page. */
  nextCursor: string | null;
}

export interface KeysetPosition {
  /** Microseconds since the epoch. */
  micros: number;
  id: number;
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
    this.name = 'InvalidCursorError';
  }
}

export function encodeCursor(p: KeysetPosition): string {
  return Buffer.from(`${p.micros}.${p.id}`).toString('base64url');
}

/** Parses a cursor from a request; throws InvalidCursorError (answer 400 naming the `cursor` field). */
export function decodeCursor(cursor: string): KeysetPosition {
  const m = /^(-?\d{1,17})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError();
  const micros = Number(m[1]);
  const id = Number(m[2]);
  if (!Number.isSafeInteger(micros) || !Number.isSafeInteger(id)) throw new InvalidCursorError();
  return { micros, id };
}

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit)));
}

/**
 * SQL fragments for one keyset column pair: `select` adds the `keyset_us` column a page needs,
 * `before(cursor)` is the condition for rows older than the cursor (TRUE without one).
 */
export function keyset(sql: Sql, timeColumn: string, idColumn = 'id') {
  const t = sql(timeColumn);
  const i = sql(idColumn);
  return {
    select: sql`(extract(epoch FROM ${t}) * 1000000)::int8 AS keyset_us`,
    before(cursor: string | null | undefined) {
      if (!cursor) return sql`TRUE`;
      const c = decodeCursor(cursor);
      return sql`(${t}, ${i}) < (timestamptz 'epoch' + ${c.micros}::int8 * interval '1 microsecond', ${c.id}::int8)`;
    },
    order: sql`${t} DESC, ${i} DESC`,
  };
}

/** Rows fetched with LIMIT size + 1 → a page and the cursor after its last item. */
export function toPage<R extends { keyset_us: number; id: number }, T>(
  rows: readonly R[],
  size: number,
  map: (r: R) => T,
): Page<T> {
  const more = rows.length > size;
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: more && last ? encodeCursor({ micros: last.keyset_us, id: last.id }) : null,
  };
}
