import { cleanup, configure, render } from '@testing-library/react';
import axe from 'axe-core';
import type { ReactNode } from 'react';
import { SWRConfig } from 'swr';
import { afterEach } from 'vitest';
import { fetcher } from '../api/client.ts';

// Testing Library cleans up by itself only when test globals are on; they are not in this project.
afterEach(cleanup);
// The default 1 s wait for findBy* is short on a busy two-core machine shared by many test runs.
configure({ asyncUtilTimeout: 5000 });

/** Renders with a private SWR cache (no state leaks between tests) and no retry delays; rerender keeps it. */
export function renderWithSwr(ui: ReactNode) {
  const cache = new Map();
  return render(ui, {
    wrapper: ({ children }) => (
      <SWRConfig
        value={{
          provider: () => cache,
          fetcher,
          dedupingInterval: 0,
          shouldRetryOnError: false,
          revalidateOnFocus: false,
        }}
      >
        {children}
      </SWRConfig>
    ),
  });
}

/**
 * axe-core on the rendered DOM. jsdom has no layout, so colour contrast is left to the browser tests
 * (web/e2e), which run axe with every rule on every page.
 */
export async function axeViolations(container: Element): Promise<string[]> {
  const result = await axe.run(container, { rules: { 'color-contrast': { enabled: false } } });
  return result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
}
