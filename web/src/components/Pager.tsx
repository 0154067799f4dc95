export function Pager({
  pageNumber,
  hasNewer,
  hasOlder,
  newer,
  older,
  first,
  rows,
}: {
  pageNumber: number;
  hasNewer: boolean;
  hasOlder: boolean;
  newer: () => void;
  older: () => void;
  first: () => void;
  rows: number;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <span>
        Page {pageNumber} · {rows} row{rows === 1 ? '' : 's'}
      </span>
      <button type="button" className="btn btn-small" onClick={first} disabled={!hasNewer}>
        Newest
      </button>
      <button type="button" className="btn btn-small" onClick={newer} disabled={!hasNewer}>
        ‹ Newer
      </button>
      <button type="button" className="btn btn-small" onClick={older} disabled={!hasOlder}>
        Older ›
      </button>
    </nav>
  );
}
