import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <span>
        <strong>Could not load.</strong> {errorMessage(error)}
      </span>
      {retry ? (
        <button type="button" className="btn btn-small" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

interface AsyncProps<T> {
  data: T | undefined;
  error: unknown;
  isLoading?: boolean;
  retry?: () => void;
  /** True when the loaded data has nothing to show. */
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  loadingLabel?: string;
  children: (data: T) => ReactNode;
}

/** The loading / error / empty / content switch every view goes through. */
export function Async<T>({ data, error, retry, isEmpty, empty, loadingLabel, children }: AsyncProps<T>) {
  if (error && data === undefined) return <ErrorState error={error} retry={retry} />;
  if (data === undefined) return <Loading label={loadingLabel} />;
  if (isEmpty?.(data)) return <Empty>{empty ?? 'Nothing here yet.'}</Empty>;
  return <>{children(data)}</>;
}
