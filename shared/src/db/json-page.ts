/**
 * Keyset pages whose JSON Postgres builds: the caller gets the items as JSON text, ready to send, and
 * parses it only when it wants objects. One SQL and one column → key mapping per list serves both the
 * API (which passes the text through, thousands of pages a second) and code that wants typed rows.
 */
import type { PendingQuery, Row, Sql } from 'postgres';
import { encodeCursor, keyset, type Page } from './keyset.ts';

/** The JSON text of a page's items, assembled by Postgres, and the cursor of the page after it. */
export interface JsonPage {
  items: string;
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
   * The rows of the page plus one, newest first, each with `rn` (its 1-based position), `id`, and for
   * (time, id) lists `keyset_us` (the shared keyset's select). The extra row tells whether a next page exists.
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
 * Runs a keyset page: Postgres builds each item's JSON text (or reads it stored), this process joins
 * them. Joining here rather than with string_agg halves the database's work per page, and the database
 * is what a busy list is bound by.
 */
export async function jsonPage(sql: Sql, spec: PageSpec): Promise<JsonPage> {
  const rows = await sql<{ j: string; keyset_us: number | null; id: number }[]>`
    SELECT ${sql.unsafe(spec.item)} AS j, keyset_us, id FROM (${spec.rows}) AS page ORDER BY rn`;
  const more = rows.length > spec.limit;
  const n = more ? spec.limit : rows.length;
  let items = '[';
  for (let i = 0; i < n; i++) items += i === 0 ? rows[i].j : `,${rows[i].j}`;
  items += ']';
  const last = rows[n - 1];
  return {
    items,
    nextCursor: more ? spec.cursor({ keyset_us: last.keyset_us, id: last.id }) : null,
  };
}

/** Cursor of a (time, id) list: the shared keyset cursor (keyset.ts). */
export const timeCursor = (last: { keyset_us: number | null; id: number }): string =>
  encodeCursor({ micros: last.keyset_us ?? 0, id: last.id });

/** `{"items":…,"nextCursor":…}`: the API's page answer, as text. */
export const pageText = (p: JsonPage): string =>
  `{"items":${p.items},"nextCursor":${p.nextCursor === null ? 'null' : JSON.stringify(p.nextCursor)}}`;

/** The page as objects (the items' shape is the one `fields` names). */
export const parsePage = <T>(p: JsonPage): Page<T> => ({
  items: JSON.parse(p.items) as T[],
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
    columns: sql`${k.select}, row_number() OVER (ORDER BY ${k.order}) AS rn`,
    before: k.before(cursor),
    order: k.order,
  };
}
