/**
 * Keyset pages whose JSON Postgres builds: the caller gets the items as JSON text, ready to send, and
 * parses it only when it wants objects. One SQL and one column → key mapping per list serves both the
 * API (which passes the text through, thousands of pages a second) and code that wants typed rows.
 */
import type { PendingQuery, Row, Sql } from 'postgres';
import { encodeCursor, keyset, type Page } from './keyset.ts';

/**
 * The JSON of a page's items as UTF-8 bytes, assembled by Postgres, and the cursor of the page after
 * it. Bytes, not a string: the API sends them on as they arrived, never decoding and encoding again
 * the tens of kilobytes of a page (that, and the garbage it made, was most of a list request's cost).
 */
export interface JsonPage {
  items: Uint8Array;
  nextCursor: string | null;
}

type Fragment = PendingQuery<Row[]>;

/**
 * How a column becomes a JSON value: `int`/`float`/`bool` as numbers and booleans, `text` as a JSON
 * string, `decimal` as a canonical decimal string (the money rule), `time` as an ISO instant with
 * milliseconds and Z (as Date#toISOString writes it), `json` as is. NULL is `null`.
 */
export type FieldKind = 'int' | 'float' | 'bool' | 'text' | 'decimal' | 'time' | 'json';
/** [API key, column, kind], in the order the API schema lists them. */
export type Fields = readonly (readonly [key: string, column: string, kind: FieldKind])[];

const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

function valueSql(column: string, kind: FieldKind): string {
  switch (kind) {
    case 'int':
    case 'float':
    case 'bool':
      return `${column}::text`;
    case 'text':
    case 'json':
      return `to_json(${column})::text`;
    case 'decimal':
      return `'"' || trim_scale(${column})::text || '"'`;
    case 'time':
      return `'"' || to_char(${column} AT TIME ZONE 'UTC', ${ISO_MS}) || '"'`;
  }
}

/**
 * The SQL of one row's JSON object text, concatenated: several times cheaper for Postgres than
 * json_build_object (no per-value type dispatch), which is what a 100-row page spends most of its time on.
 * Keys and columns are constants of this module's callers, never input.
 */
export function jsonObjectSql(fields: Fields): string {
  const parts = fields.map(([key, column, kind], i) => {
    if (!/^[a-zA-Z]+$/.test(key) || !/^[a-z_]+$/.test(column)) throw new Error(`bad field ${key}/${column}`);
    return `'${i === 0 ? '{' : ','}"${key}":' || coalesce(${valueSql(column, kind)}, 'null')`;
  });
  return `${parts.join(' || ')} || '}'`;
}

export interface PageSpec {
  /**
   * The rows of the page plus one, newest first, each with `rn` (its 1-based position), `id`, and
   * `keyset_t`: the time of (time, id) lists (NULL for lists keyed by id alone). The extra row tells
   * whether a next page exists.
   */
  rows: Fragment;
  /**
   * The SQL of one item's JSON object text: `jsonObjectSql(fields)` of the columns as the API schema
   * names and types them, or a column that stores that text.
   */
  item: string;
  limit: number;
  /** How the cursor of the page after is made from the last row's key. */
  cursor(last: { keyset_us: number | null; id: number }): string;
}

/**
 * Runs a keyset page. Postgres builds each item's JSON (or reads it stored) and joins them: a page
 * arrives as one value, and is passed on as the bytes it arrived as, never decoded (a page is tens of
 * kilobytes: a row per item, decoding and re-encoding, and the garbage they made were most of a list
 * request's cost). The cursor's time is converted once, for the one row that needs it.
 */
export async function jsonPage(sql: Sql, spec: PageSpec): Promise<JsonPage> {
  // Raw: every value arrives as its bytes (text format); the three small ones are read here.
  const [[items, n, keysetUs, id]] = await sql<[Buffer, Buffer, Buffer | null, Buffer | null][]>`
    WITH page AS (${spec.rows})
    SELECT '[' || coalesce(string_agg(${sql.unsafe(spec.item)}, ',' ORDER BY rn) FILTER (WHERE rn <= ${spec.limit}), '') || ']',
           count(*)::int4,
           (extract(epoch FROM max(keyset_t) FILTER (WHERE rn = ${spec.limit})) * 1000000)::int8,
           max(id) FILTER (WHERE rn = ${spec.limit})
    FROM page`.raw();
  const more = Number(n.toString()) > spec.limit && id !== null;
  return {
    items,
    nextCursor: more
      ? spec.cursor({
          keyset_us: keysetUs === null ? null : Number(keysetUs.toString()),
          id: Number(id.toString()),
        })
      : null,
  };
}

/** Cursor of a (time, id) list: the shared keyset cursor (keyset.ts). */
export const timeCursor = (last: { keyset_us: number | null; id: number }): string =>
  encodeCursor({ micros: last.keyset_us ?? 0, id: last.id });

const ITEMS_KEY = Buffer.from('{"items":');

/** `{"items":…,"nextCursor":…}`: the API's page answer, as UTF-8 bytes. */
export const pageBody = (p: JsonPage): Uint8Array<ArrayBuffer> =>
  Buffer.concat([
    ITEMS_KEY,
    p.items,
    Buffer.from(`,"nextCursor":${p.nextCursor === null ? 'null' : JSON.stringify(p.nextCursor)}}`),
  ]) as Uint8Array<ArrayBuffer>;

/** The page as objects (the items' shape is the one `fields` names). */
export const parsePage = <T>(p: JsonPage): Page<T> => ({
  items: JSON.parse(
    Buffer.from(p.items.buffer, p.items.byteOffset, p.items.byteLength).toString('utf8'),
  ) as T[],
  nextCursor: p.nextCursor,
});

/** `a AND b AND …`, or TRUE. */
export function and(sql: Sql, conds: Fragment[]): Fragment {
  if (conds.length === 0) return sql`TRUE`;
  return conds.slice(1).reduce((acc, c) => sql`${acc} AND ${c}`, conds[0]);
}

/** Rows newest first by (time, id), plus the numbering a page needs. */
export function timeKeyed(sql: Sql, timeColumn: string, cursor: string | null | undefined) {
  const k = keyset(sql, timeColumn);
  return {
    columns: sql`${sql(timeColumn)} AS keyset_t, row_number() OVER (ORDER BY ${k.order}) AS rn`,
    before: k.before(cursor),
    order: k.order,
  };
}
