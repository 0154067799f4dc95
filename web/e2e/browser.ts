/// <reference lib="dom" />
/** Chromium (Debian's, driven by playwright-core) and the checks every page goes through. */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { repoRoot } from './product.ts';

export const screenshotDir = join(repoRoot, 'test-results', 'screenshots');

export const VIEWPORTS = {
  laptop: { viewport: { width: 1366, height: 850 }, colorScheme: 'dark' as const },
  phone: {
    viewport: { width: 390, height: 844 },
    colorScheme: 'light' as const,
    isMobile: true,
    hasTouch: true,
  },
};
export type ViewportName = keyof typeof VIEWPORTS;

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function newContext(browser: Browser, name: ViewportName): Promise<BrowserContext> {
  return browser.newContext({ ...VIEWPORTS[name], deviceScaleFactor: 1, reducedMotion: 'reduce' });
}

const inFlight = new WeakMap<Page, Set<unknown>>();

/** Counts the page's API reads in flight (the held-open event stream aside), for settled(). */
function trackApi(page: Page): void {
  const pending = new Set<unknown>();
  inFlight.set(page, pending);
  const isRead = (url: string) => url.includes('/api/') && !url.includes('/api/events');
  page.on('request', (r) => {
    if (isRead(r.url())) pending.add(r);
  });
  page.on('requestfinished', (r) => pending.delete(r));
  page.on('requestfailed', (r) => pending.delete(r));
}

/** Collects uncaught errors and console errors of a page, so a test can insist there were none. */
export function watchErrors(page: Page): string[] {
  trackApi(page);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/**
 * Waits until no spinner, "Loading…" placeholder or chart placeholder is left on the page and no API read
 * is in flight (SWR shows cached data while it revalidates: the screenshot should show the answer).
 */
export async function settled(page: Page): Promise<void> {
  const pending = inFlight.get(page);
  if (pending) {
    const deadline = Date.now() + 20_000;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      if (pending.size > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= 300) break;
      await page.waitForTimeout(50);
    }
  }
  await page.waitForFunction(
    () =>
      document.querySelectorAll('.state-loading, .chart-loading').length === 0 &&
      document.querySelector('main') !== null,
    undefined,
    { timeout: 20_000 },
  );
  // No focus ring left over from the previous page's keyboard walk in the screenshots.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  // Charts draw on the next animation frames.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core in the real browser, every WCAG 2.x A/AA rule (colour contrast included). */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axeSource });
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected as a global script
    const axe = (window as any).axe;
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map(
      (v: { id: string; help: string; nodes: Array<{ target: string[]; failureSummary?: string }> }) =>
        `${v.id}: ${v.help}\n${v.nodes
          .slice(0, 5)
          .map((n) => `    ${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1, 3).join(' ')}`)
          .join('\n')}`,
    );
  });
  return violations as string[];
}

/**
 * Tabs through the page from the top and returns the visible, enabled controls that Tab never reached.
 * An empty list means everything a mouse can use, a keyboard can reach.
 */
export async function unreachableByKeyboard(page: Page): Promise<string[]> {
  const candidates = await page.evaluate(() => {
    const sel =
      'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
    let n = 0;
    for (const el of Array.from(document.querySelectorAll<HTMLElement>(sel))) {
      const visible =
        el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) && !el.closest('[inert]');
      if (el.hasAttribute('hidden') || !visible) continue;
      el.dataset.e2eFocus = String(n++);
    }
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
    return n;
  });
  const reached = new Set<string>();
  for (let i = 0; i < candidates * 2 + 10 && reached.size < candidates; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(
      () => (document.activeElement as HTMLElement | null)?.dataset.e2eFocus ?? null,
    );
    if (id !== null) reached.add(id);
  }
  return page.evaluate(
    (seen) => {
      const missed: string[] = [];
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-e2e-focus]'))) {
        if (!seen.includes(el.dataset.e2eFocus ?? '')) {
          missed.push(
            `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40)}"`,
          );
        }
        delete el.dataset.e2eFocus;
      }
      return missed;
    },
    [...reached],
  );
}

export async function screenshot(page: Page, viewport: ViewportName, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${viewport}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
