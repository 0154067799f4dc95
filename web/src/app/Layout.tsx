import { type ReactNode, useEffect, useRef, useState } from 'react';
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

/**
 * The section links. On a narrow screen they scroll sideways; a fade with an arrow on the side that has
 * more links says so (the links themselves scroll into view when tabbed to).
 */
function SectionNav({ current }: { current: string }) {
  const nav = useRef<HTMLElement>(null);
  const [more, setMore] = useState({ left: false, right: false });

  useEffect(() => {
    const el = nav.current;
    if (!el) return;
    const update = () => {
      const left = el.scrollLeft > 2;
      const right = el.scrollLeft + el.clientWidth < el.scrollWidth - 2;
      setMore((m) => (m.left === left && m.right === right ? m : { left, right }));
    };
    update();
    el.addEventListener('scroll', update, { passive: true });
    const resize = typeof ResizeObserver === 'function' ? new ResizeObserver(update) : null;
    resize?.observe(el);
    return () => {
      el.removeEventListener('scroll', update);
      resize?.disconnect();
    };
  }, []);

  // Keep the current section in view.
  useEffect(() => {
    const link = nav.current?.querySelector<HTMLElement>(`a[href="#/${current}"]`);
    link?.scrollIntoView?.({ block: 'nearest', inline: 'center' });
  }, [current]);

  return (
    <div className={`nav-wrap${more.left ? ' more-left' : ''}${more.right ? ' more-right' : ''}`}>
      <nav ref={nav} className="nav" aria-label="Sections">
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
      <span className="nav-more nav-more-left" aria-hidden="true">
        ‹
      </span>
      <span className="nav-more nav-more-right" aria-hidden="true">
        ›
      </span>
    </div>
  );
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
        <SectionNav current={current} />
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
