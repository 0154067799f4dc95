import { useSyncExternalStore } from 'react';

/**
 * Hash routes (`#/backtests/12?tab=trades`): the dashboard works however it is served (the local runner,
 * behind the OpenFaaS gateway, from a sub-path) with no server-side fallback to index.html.
 */
export interface Route {
  /** Path segments, e.g. ['backtests', '12']. */
  segments: string[];
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?', 2);
  return {
    segments: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(qs),
  };
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

const snapshot = () => window.location.hash;

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, snapshot, () => '');
  return parse(hash);
}

/** Path plus query as an href, e.g. href('/orders', { status: 'filled' }) → '#/orders?status=filled'. */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(
  path: string,
  query: Record<string, string | undefined> = {},
  replace = false,
): void {
  const target = href(path, query);
  if (replace) {
    window.history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = target.slice(1);
  }
}
