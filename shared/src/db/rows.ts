/** Row → wire conversions shared by the repositories: instants as ISO strings. */

export const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

export const isoOrNull = (d: Date | string | null | undefined): string | null => (d == null ? null : iso(d));

/**
 * A Postgres array literal for a parameter cast in SQL (`${pgArray(xs)}::text[]`). postgres.js's
 * sql.array() needs the server's array types, which it loads only once a connection is up, so an array
 * built before the pool's first connection is sent as a plain scalar; a literal has no such race.
 */
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.map((v) => (typeof v === 'number' ? String(v) : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}
