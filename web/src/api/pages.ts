import { useState } from 'react';
import useSWR from 'swr';
import { api, apiPath } from './client.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Query = Record<string, string | number | undefined>;

/**
 * Keyset paging over a list endpoint: "Older" follows the page's nextCursor, "Newer" goes back through the
 * cursors already visited. The cursor trail resets when the filters change.
 */
export function useCursorPages<T>(path: string, filters: Query, limit: number) {
  const filterKey = apiPath(path, filters);
  const [trail, setTrail] = useState<{ filterKey: string; cursors: string[] }>({ filterKey, cursors: [] });
  const cursors = trail.filterKey === filterKey ? trail.cursors : [];
  const cursor = cursors[cursors.length - 1];
  const key = apiPath(path, { ...filters, limit, cursor });
  const swr = useSWR<Page<T>>(key);
  return {
    ...swr,
    pageNumber: cursors.length + 1,
    hasNewer: cursors.length > 0,
    hasOlder: Boolean(swr.data?.nextCursor),
    older: () => {
      const next = swr.data?.nextCursor;
      if (next) setTrail({ filterKey, cursors: [...cursors, next] });
    },
    newer: () => setTrail({ filterKey, cursors: cursors.slice(0, -1) }),
    first: () => setTrail({ filterKey, cursors: [] }),
  };
}

/** Every page of a filtered list, for export; stops at `max` rows. */
export async function fetchAll<T>(
  path: string,
  filters: Query,
  onProgress: (rows: number) => void,
  max = 100_000,
): Promise<{ rows: T[]; truncated: boolean }> {
  const rows: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await api<Page<T>>(apiPath(path, { ...filters, limit: 500, cursor }));
    rows.push(...page.items);
    onProgress(rows.length);
    if (!page.nextCursor) return { rows, truncated: false };
    if (rows.length >= max) return { rows: rows.slice(0, max), truncated: true };
    cursor = page.nextCursor;
  }
}
