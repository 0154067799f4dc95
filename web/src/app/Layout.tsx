import { type ReactNode, useEffect, useRef } from 'react';
import { api } from '../api/client.ts';
import { useLiveEvents } from '../api/live.ts';
import { routes } from '../api/routes.ts';
import { clearToken } from '../api/token.ts';
import { HaltBanner } from './HaltBanner.tsx';
import { SECTIONS } from './pages.ts';

/** Ends the cookie session too (it lets a plain EventSource in), then forgets the token. */
function logout(): void {
  void api(routes.session, { method: 'DELETE' })
    .catch(() => {})
    .finally(clearToken);
}

export function Layout({
  current,
  title,
  children,
}: {
  current: string;
  title: string;
  children: ReactNode;
}) {
  const main = useRef<HTMLElement>(null);
  const { status } = useLiveEvents();

  useEffect(() => {
    document.title = `${title} · Weaver`;
  }, [title]);

  // On a phone the section links scroll sideways: keep the current one in view.
  useEffect(() => {
    const link = document.querySelector<HTMLElement>(`.nav a[href="#/${current}"]`);
    link?.scrollIntoView?.({ block: 'nearest', inline: 'center' });
  }, [current]);

  return (
    <div className="app">
      <button type="button" className="skip-link" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header className="topbar">
        <a className="brand" href="#/overview">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Weaver
        </a>
        <nav className="nav" aria-label="Sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.path}>
                <a href={`#/${s.path}`} aria-current={current === s.path ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-end">
          <span className={`live live-${status}`} role="status" title="Live updates">
            <span className="live-dot" aria-hidden="true" />
            {status === 'open' ? 'Live' : status === 'connecting' ? 'Connecting' : 'Offline'}
          </span>
          <button type="button" className="btn btn-ghost btn-small" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <HaltBanner />
      <main id="main" ref={main} tabIndex={-1}>
        <h1 className="page-title">{title}</h1>
        {children}
      </main>
    </div>
  );
}
