/**
 * The dashboard end to end: Debian's Chromium (playwright-core) against `npm start` — the real runner,
 * gateway, functions and demo market on a private database and NATS stream. Every page is checked with
 * axe-core and for keyboard reachability, and photographed at laptop and phone width into
 * test-results/screenshots/.
 */
import type {
  BacktestSummary,
  HaltStatus,
  ParityReport,
  PositionView,
  StrategyList,
} from '@weaver/shared/schemas';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  launch,
  newContext,
  screenshot,
  settled,
  unreachableByKeyboard,
  type ViewportName,
  watchErrors,
} from './browser.ts';
import { buildWeb, type Product, startProduct } from './product.ts';

interface TracePayload {
  resourceSpans: Array<{
    scopeSpans: Array<{
      spans: Array<{ attributes: Array<{ key: string; value: { stringValue?: string } }> }>;
    }>;
  }>;
}

let product: Product;
/** Backtests the flow test created, for the detail and comparison pages' checks. */
const backtestIds: number[] = [];
let browser: Browser;
const contexts: BrowserContext[] = [];
const pages: Partial<Record<ViewportName, { page: Page; errors: string[] }>> = {};

async function open(viewport: ViewportName): Promise<{ page: Page; errors: string[] }> {
  const existing = pages[viewport];
  if (existing) return existing;
  const ctx = await newContext(browser, viewport);
  contexts.push(ctx);
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  pages[viewport] = { page, errors };
  return pages[viewport];
}

async function logIn(page: Page): Promise<void> {
  await page.goto(`${product.url}/`);
  await page.getByLabel('API token').fill(product.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

async function go(page: Page, hash: string): Promise<void> {
  await page.goto(`${product.url}/#/${hash}`);
  await settled(page);
}

beforeAll(async () => {
  buildWeb();
  [product, browser] = await Promise.all([startProduct(), launch()]);
}, 240_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close().catch(() => {});
  await product?.stop();
}, 60_000);

describe('the dashboard against npm start', () => {
  it('logs in with the token npm start printed, and refuses a wrong one', async () => {
    const { page, errors } = await open('laptop');
    await page.goto(`${product.url}/`);
    await page.getByLabel('API token').waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'laptop', 'login');

    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('That token was not accepted.').waitFor();

    await page.getByLabel('API token').fill(product.token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('weaver.apiToken'))).toBe(product.token);
    // The refused login is the one expected error (its 401 in the console); nothing else went wrong.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
  }, 60_000);

  it('places a manual order and sees the position, with the demo strategy’s trades streaming in', async () => {
    const { page } = await open('laptop');
    await go(page, 'orders');
    await page.getByRole('button', { name: 'New order' }).click();
    const dialog = page.getByRole('dialog', { name: 'New order' });
    await dialog.getByLabel('Symbol').fill('GLOBEX');
    await dialog.getByLabel('Quantity').fill('3');
    await dialog.getByRole('button', { name: 'Place order' }).click();
    const placed = await page.getByText(/^Order #\d+ buy GLOBEX: /).textContent();
    expect(placed).toMatch(/: (new|accepted|pending new|partially filled|filled)\.$/);

    // The simulated exchange fills it on the next bar; the position is the server's.
    const manual = async () =>
      (await product.api<{ items: PositionView[] }>('/api/positions?strategy=manual')).items.map((p) => [
        p.symbol,
        p.qty,
      ]);
    await expect
      .poll(manual, {
        timeout: 60_000,
        message: `no manual GLOBEX position; orders: ${JSON.stringify(await product.api('/api/orders?strategy=manual'))}`,
      })
      .toEqual([['GLOBEX', '3']]);
    await go(page, 'overview');
    const positions = page.getByRole('table', { name: 'Open positions' });
    await positions.getByRole('button', { name: 'Close GLOBEX position of manual' }).waitFor();

    // Events stream in without a reload: the activity list grows while we watch.
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Live' }).count(), { timeout: 20_000 })
      .toBe(1);
    const activity = page.locator('.activity-item');
    const before = await activity.allTextContents();
    await expect
      .poll(async () => (await activity.allTextContents()).some((t) => !before.includes(t)), {
        timeout: 60_000,
      })
      .toBe(true);
  }, 150_000);

  it('toggles a strategy, and the change is the server’s', async () => {
    const { page } = await open('laptop');
    await go(page, 'strategies');
    const toggle = page.getByRole('switch', { name: 'demo-sma enabled' });
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('true');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await expect
      .poll(
        async () =>
          (await product.api<StrategyList>('/api/strategies')).items.find((s) => s.name === 'demo-sma')
            ?.enabled,
      )
      .toBe(false);
    await page.reload();
    await settled(page);
    await expect.poll(() => toggle.getAttribute('aria-checked')).toBe('false');
    await expect(page.getByRole('row', { name: /demo-sma/ }).getByText('disabled')).toBeDefined();
    await toggle.click();
    await expect
      .poll(
        async () =>
          (await product.api<StrategyList>('/api/strategies')).items.find((s) => s.name === 'demo-sma')
            ?.enabled,
      )
      .toBe(true);
  }, 60_000);

  it('creates a strategy from the form, compares live with a backtest, and deletes the new one', async () => {
    const { page } = await open('laptop');
    await go(page, 'strategies');
    await page.getByRole('button', { name: 'New strategy' }).click();
    const form = page.getByRole('form', { name: 'New strategy' });
    await form.getByLabel('Name').fill('e2e-trend');
    await form.getByLabel('Module').selectOption('sma-crossover');
    await form.getByLabel('Symbols').fill('acme');
    await form.getByLabel('Timeframe').selectOption('1Min');
    await form.getByLabel('fast').fill('12');
    await form.getByLabel('slow').fill('9');
    await form.getByRole('button', { name: 'Create strategy' }).click();
    // The module's own rule comes back from the gateway and lands next to its input.
    await form.getByText('fast must be smaller than slow').waitFor();
    await form.getByLabel('fast').fill('3');
    await screenshot(page, 'laptop', 'strategy-new');
    await form.getByRole('button', { name: 'Create strategy' }).click();
    await page.getByText('Created e2e-trend (disabled).').waitFor();
    const created = (await product.api<StrategyList>('/api/strategies')).items.find(
      (s) => s.name === 'e2e-trend',
    );
    expect(created).toMatchObject({
      module: 'sma-crossover',
      params: { fast: 3, slow: 9 },
      symbols: ['ACME'],
      timeframe: '1Min',
      enabled: false,
    });

    // Live versus backtest for the demo strategy over the period the form proposes: a period it traded,
    // so first the demo must have taken a signal (on a loaded machine its first may come late).
    await expect
      .poll(
        async () =>
          (await product.api<{ items: unknown[] }>('/api/signals?strategy=demo-sma&limit=1')).items.length,
        { timeout: 60_000, interval: 500 },
      )
      .toBeGreaterThan(0);
    const period = page.getByRole('form', { name: 'Parity period' });
    await period.getByLabel('Strategy').selectOption('demo-sma');
    // The demo keeps trading: the page must show the very answer it got.
    const [answer] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/parity', { timeout: 60_000 }),
      period.getByRole('button', { name: 'Compare' }).click(),
    ]);
    expect(answer.status()).toBe(200);
    expect(Object.fromEntries(new URL(answer.url()).searchParams)).toEqual({
      from: await period.getByLabel('From').inputValue(),
      to: await period.getByLabel('To').inputValue(),
      strategy: 'demo-sma',
    });
    const section = page.getByRole('region', { name: 'Parity of demo-sma' });
    await section.waitFor({ timeout: 60_000 });
    const report = (await answer.json()) as ParityReport;
    const s = report.strategies[0];
    expect(s.error).toBeNull();
    expect(s.signals.live).toBeGreaterThan(0);
    await section
      .getByText(
        `Signals: ${s.signals.matched} of ${s.signals.live} live matched, ${s.signals.backtest} in the backtest.`,
        { exact: false },
      )
      .waitFor();
    await settled(page);
    await screenshot(page, 'laptop', 'parity');
    if (s.differences.length > 0) {
      // The first 50 at once, all (up to 1,000) on request.
      const rows = section.getByRole('table').locator('tbody tr');
      expect(await rows.count()).toBe(Math.min(50, s.differences.length));
      if (s.differences.length > 50) {
        await section.getByRole('button', { name: /^Show \d+$/ }).click();
        expect(await rows.count()).toBe(Math.min(1000, s.differences.length));
      }
    }

    await page.getByRole('button', { name: 'Delete e2e-trend' }).click();
    await page
      .getByRole('dialog', { name: 'Delete e2e-trend?' })
      .getByRole('button', { name: 'Delete strategy' })
      .click();
    await page.getByText('Deleted e2e-trend.').waitFor();
    expect(
      (await product.api<StrategyList>('/api/strategies')).items.some((x) => x.name === 'e2e-trend'),
    ).toBe(false);
  }, 120_000);

  it('runs a backtest from the form and opens its charts', async () => {
    const { page } = await open('laptop');
    await go(page, 'backtests');
    await page.getByLabel('Strategy', { exact: true }).selectOption('sma-crossover');
    await page.getByLabel('Timeframe').selectOption('1Min');
    await page.getByLabel('Symbols').fill('ACME, GLOBEX');
    await page.getByLabel('fast').fill('4');
    await page.getByLabel('slow').fill('12');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await page.waitForURL(/#\/backtests\/\d+$/);
    const id = Number(/(\d+)$/.exec(page.url())?.[1]);
    backtestIds.push(id);
    // Progress is live; the page turns into the results when the run completes.
    await page.getByText('completed', { exact: true }).waitFor({ timeout: 90_000 });
    const detail = await product.api<BacktestSummary>(`/api/backtests/${id}`);
    expect(detail.status).toBe('completed');
    expect(detail.params).toEqual({ fast: 4, slow: 12 });
    expect(detail.symbols).toEqual(['ACME', 'GLOBEX']);
    await settled(page);
    for (const chart of ['Equity curve against buy and hold', 'Drawdown from the running peak']) {
      await page.getByRole('img', { name: chart }).locator('canvas').first().waitFor();
    }
    const price = page.getByRole('img', {
      name: /^ACME 1Min price with the backtest's \d+ entries and exits$/,
    });
    await price.locator('canvas').first().waitFor();
    const marked = Number(/(\d+) entries/.exec((await price.getAttribute('aria-label')) ?? '')?.[1]);
    expect(marked).toBeGreaterThan(0);
    expect(await page.locator('.metric-cards .stat').count()).toBeGreaterThan(10);
    await screenshot(page, 'laptop', 'backtest-flow');

    // A second run with other parameters, then the two side by side.
    const other = await product.api<BacktestSummary>('/api/backtests', {
      method: 'POST',
      body: {
        strategy: 'sma-crossover',
        params: { fast: 8, slow: 24 },
        symbols: ['ACME', 'GLOBEX'],
        timeframe: '1Min',
      },
    });
    backtestIds.push(other.id);
    await expect
      .poll(async () => (await product.api<BacktestSummary>(`/api/backtests/${other.id}`)).status, {
        timeout: 90_000,
      })
      .toBe('completed');
    await go(page, 'backtests');
    await page.getByLabel(`Compare backtest ${id}`).check();
    await page.getByLabel(`Compare backtest ${other.id}`).check();
    await page.getByRole('button', { name: 'Compare (2)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Compare backtests' }).waitFor();
    await page
      .getByRole('img', { name: 'Return of each compared backtest over time' })
      .locator('canvas')
      .first()
      .waitFor();
    const header = await page.getByRole('table').locator('thead').textContent();
    expect(header).toContain(`#${id}`);
    expect(header).toContain(`#${other.id}`);
  }, 240_000);

  it('halts trading with the kill switch after confirming, and releases it', async () => {
    const { page } = await open('laptop');
    await go(page, 'system');
    await page.getByRole('button', { name: 'Halt trading' }).click();
    const dialog = page.getByRole('dialog', { name: 'Halt all trading?' });
    await dialog.getByLabel('Reason').fill('e2e drill');
    expect((await product.api<HaltStatus>('/api/kill-switch')).halted).toBe(false);
    await dialog.getByRole('button', { name: 'Halt trading' }).click();
    await page.getByText(/^Trading halted\. \d+ open orders? canceled/).waitFor();
    await page.getByText('Trading halted.', { exact: false }).first().waitFor();
    const halted = await product.api<HaltStatus>('/api/kill-switch');
    expect(halted.halted).toBe(true);
    expect(halted.halts.map((h) => [h.scope, h.reason])).toContainEqual(['global', 'e2e drill']);
    // The banner follows the trader to every page while trading is halted.
    await go(page, 'overview');
    await page.getByRole('alert').filter({ hasText: 'Trading halted.' }).waitFor();
    await screenshot(page, 'laptop', 'overview-halted');

    await go(page, 'system');
    await page.getByRole('button', { name: 'Release kill switch' }).click();
    await page
      .getByRole('dialog', { name: 'Resume trading?' })
      .getByRole('button', { name: 'Resume trading' })
      .click();
    await page.getByText('Trading resumed.').waitFor();
    expect((await product.api<HaltStatus>('/api/kill-switch')).halted).toBe(false);
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Trading halted.' }).count()).toBe(0);
  }, 60_000);

  const PAGES: Array<{ name: string; hash: string; heading: string }> = [
    { name: 'overview', hash: 'overview', heading: 'Overview' },
    { name: 'strategies', hash: 'strategies', heading: 'Strategies' },
    { name: 'strategy', hash: 'strategies/demo-sma', heading: 'Strategy demo-sma' },
    { name: 'orders', hash: 'orders', heading: 'Orders & trades' },
    { name: 'trades', hash: 'orders?tab=trades', heading: 'Orders & trades' },
    { name: 'signals', hash: 'orders?tab=signals', heading: 'Orders & trades' },
    { name: 'backtests', hash: 'backtests', heading: 'Backtests' },
    { name: 'backtest', hash: 'backtests/FIRST', heading: 'Backtest #FIRST' },
    { name: 'backtest-compare', hash: 'backtests/compare?ids=FIRST,SECOND', heading: 'Compare backtests' },
    { name: 'market', hash: 'market', heading: 'Market' },
    { name: 'system', hash: 'system', heading: 'System' },
  ];
  const fill = (t: string) =>
    t.replace(/FIRST/g, String(backtestIds[0])).replace(/SECOND/g, String(backtestIds[1]));

  for (const viewport of ['laptop', 'phone'] as const) {
    it(`every page at ${viewport} width: no axe violations, keyboard reachable, photographed`, async () => {
      const { page, errors } = await open(viewport);
      if (viewport === 'phone') {
        await page.goto(`${product.url}/`);
        await page.getByLabel('API token').waitFor();
        await screenshot(page, viewport, 'login');
        expect(await axeViolations(page)).toEqual([]);
        await logIn(page);
      }
      errors.length = 0;
      const problems: string[] = [];
      for (const p of PAGES) {
        await go(page, fill(p.hash));
        await page.getByRole('heading', { level: 1, name: fill(p.heading) }).waitFor();
        if (p.name === 'market') await page.locator('.chart canvas').first().waitFor();
        await screenshot(page, viewport, p.name);
        if (p.name === 'market' && viewport === 'laptop') {
          // The newest candles carry the demo's trades: hover there for the tooltip.
          const box = await page.locator('.chart').first().boundingBox();
          if (box) {
            for (let dx = 50; dx < 600; dx += 2) {
              await page.mouse.move(box.x + box.width - dx, box.y + box.height / 2);
              if (await page.locator('.chart-tip').count()) break;
            }
            await screenshot(page, viewport, 'market-hover');
            await page.mouse.move(0, 0);
          }
        }
        for (const v of await axeViolations(page)) problems.push(`${p.name}: ${v}`);
        if (viewport === 'laptop') {
          for (const m of await unreachableByKeyboard(page))
            problems.push(`${p.name}: not reachable by Tab: ${m}`);
        }
      }
      expect(problems).toEqual([]);
      expect(errors).toEqual([]);
    }, 180_000);
  }
});

describe('telemetry', () => {
  it('sends nothing when no collector is configured', async () => {
    const { page } = await open('laptop');
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(product.url)) foreign.push(r.url());
    });
    await go(page, 'overview');
    await page.waitForTimeout(1500);
    expect(await page.evaluate(() => 'faro' in window)).toBe(false);
    expect(foreign).toEqual([]);
  });

  it('with a collector in config.json, reports errors, web vitals and the API calls’ traces', async () => {
    const ctx = await newContext(browser, 'laptop');
    contexts.push(ctx);
    const received: Array<Record<string, unknown>> = [];
    const collector = `${product.url}/e2e-faro-collector`;
    await ctx.route('**/config.json', (r) =>
      r.fulfill({
        json: { environment: 'e2e', faro: { url: collector } },
        headers: { 'cache-control': 'no-store' },
      }),
    );
    await ctx.route(`${collector}**`, async (r) => {
      received.push(r.request().postDataJSON() as Record<string, unknown>);
      await r.fulfill({ status: 202, body: '' });
    });
    const page = await ctx.newPage();
    await logIn(page);
    await settled(page);
    await page.evaluate(() =>
      setTimeout(() => {
        throw new Error('e2e: an uncaught error');
      }, 0),
    );
    // Web vitals such as LCP and CLS are final when the page is hidden.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const all = () => JSON.stringify(received);
    await expect.poll(() => all().includes('e2e: an uncaught error'), { timeout: 20_000 }).toBe(true);
    await expect
      .poll(
        () =>
          received.some((b) =>
            (b.measurements as Array<{ type: string }> | undefined)?.some((m) => m.type === 'web-vitals'),
          ),
        { timeout: 20_000 },
      )
      .toBe(true);
    // Each API call is a span carrying its URL (OpenTelemetry's url.full); the event stream is left out.
    const tracedUrls = () =>
      received.flatMap((b) =>
        ((b.traces as TracePayload | undefined)?.resourceSpans ?? []).flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) =>
            ss.spans.flatMap((sp) =>
              sp.attributes.filter((a) => a.key === 'url.full').map((a) => a.value.stringValue ?? ''),
            ),
          ),
        ),
      );
    await expect
      .poll(() => tracedUrls().some((u) => u.endsWith('/api/account')), { timeout: 20_000 })
      .toBe(true);
    expect(tracedUrls().some((u) => u.includes('/api/events'))).toBe(false);
    const meta = received[0].meta as { app?: { name?: string; environment?: string } };
    expect(meta.app).toMatchObject({ name: 'weaver-web', environment: 'e2e' });
    expect(all()).not.toContain(product.token);
  }, 60_000);
});
