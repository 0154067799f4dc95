import type { useCursorPages } from '../api/pages.ts';
import { Pager } from './Pager.tsx';
import { Async } from './states.tsx';
import { type Column, Table } from './Table.tsx';

/** One keyset-paged list: loading, error and empty states, the table, and the Newer / Older pager. */
export function PagedTable<T>({
  pages,
  caption,
  columns,
  rowKey,
  empty,
  initialSort,
}: {
  pages: ReturnType<typeof useCursorPages<T>>;
  caption: string;
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  empty: string;
  initialSort?: { key: string; dir: 'asc' | 'desc' };
}) {
  return (
    <Async
      data={pages.data}
      error={pages.error}
      retry={() => pages.mutate()}
      // An empty page after "Older" still shows the pager, so the way back stays.
      isEmpty={(d) => d.items.length === 0 && !pages.hasNewer}
      empty={empty}
    >
      {(d) => (
        <>
          <Table
            caption={caption}
            columns={columns}
            rows={d.items}
            rowKey={rowKey}
            initialSort={initialSort}
          />
          <Pager {...pages} rows={d.items.length} />
        </>
      )}
    </Async>
  );
}
