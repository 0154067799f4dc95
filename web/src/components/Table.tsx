import { type ReactNode, useMemo, useState } from 'react';

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** Makes the column sortable (client-side, on the loaded rows). */
  sortValue?: (row: T) => number | string | null;
  align?: 'left' | 'right';
  /** Hidden below tablet width to keep phone tables readable. */
  secondary?: boolean;
  /** Long text (topic lists, errors) wraps instead of widening the table. */
  wrap?: boolean;
}

interface TableProps<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string | number;
  initialSort?: { key: string; dir: 'asc' | 'desc' };
  rowClass?: (row: T) => string;
}

/**
 * A dense data table. The scroll wrapper is focusable so keyboard users can scroll wide tables; sortable
 * headers are buttons carrying aria-sort.
 */
export function Table<T>({ caption, columns, rows, rowKey, initialSort, rowClass }: TableProps<T>) {
  const [sort, setSort] = useState(initialSort);
  const sorted = useMemo(() => {
    const col = sort && columns.find((c) => c.key === sort.key);
    if (!col?.sortValue || !sort) return rows;
    const get = col.sortValue;
    const dir = sort.dir === 'asc' ? 1 : -1;
    return [...rows].sort((a, b) => {
      const va = get(a);
      const vb = get(b);
      if (va === vb) return 0;
      if (va === null) return 1;
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * dir;
    });
  }, [rows, columns, sort]);

  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section className="table-scroll" aria-label={`${caption} table`} tabIndex={0}>
      <table className="table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => {
              const active = sort?.key === c.key;
              const ariaSort = active ? (sort?.dir === 'asc' ? 'ascending' : 'descending') : undefined;
              return (
                <th
                  key={c.key}
                  scope="col"
                  aria-sort={c.sortValue ? (ariaSort ?? 'none') : undefined}
                  className={`${c.align === 'right' ? 'num' : ''} ${c.secondary ? 'secondary' : ''}`}
                >
                  {c.sortValue ? (
                    <button
                      type="button"
                      className="sort-btn"
                      onClick={() =>
                        setSort({ key: c.key, dir: active && sort?.dir === 'desc' ? 'asc' : 'desc' })
                      }
                    >
                      {c.header}
                      <span aria-hidden="true" className="sort-ind">
                        {active ? (sort?.dir === 'asc' ? '▲' : '▼') : '↕'}
                      </span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={rowKey(row)} className={rowClass?.(row)}>
              {columns.map((c) => (
                <td
                  key={c.key}
                  className={`${c.align === 'right' ? 'num' : ''} ${c.secondary ? 'secondary' : ''}`}
                >
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
