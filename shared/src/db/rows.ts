/** Row → wire conversions shared by the repositories: instants as ISO strings. */

export const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

export const isoOrNull = (d: Date | string | null | undefined): string | null => (d == null ? null : iso(d));
