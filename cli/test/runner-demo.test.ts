/**
 * The README's promise, end to end: `npm start` on a clean machine (no database, no bus, no keys) and
 * within a minute the bot trades on its own — bars arrive, the demo strategy signals, orders go to the
 * simulated exchange, fills become trades and positions — all through the real functions, read back
 * through the real API with the token the runner generated.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/runner/database.ts';
import { bareEnv, type StartedProcess, startChild, tempStateDir, waitFor } from './helpers.ts';

interface TradeItem {
  strategy: string;
  symbol: string;
  side: string;
  qty: string;
  price: string;
}

describe('npm start: the demo trades within a minute', () => {
  const state = tempStateDir('demo');
  let child: StartedProcess | undefined;
  let base: string;
  let token: string;
  let startedAt: number;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    startedAt = Date.now();
    child = await startChild(['--state-dir', state.dir, '--no-web-build'], bareEnv(), port);
    token = readFileSync(join(state.dir, 'api-token'), 'utf8').trim();
  }, 180_000);

  afterAll(async () => {
    const code = await child?.stop();
    state.remove();
    expect(code).toBe(0);
  });

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };

  it('records a trade and a position within 60 s of start, read through /api', async () => {
    const trades = await waitFor(
      'the first trade',
      async () => {
        const page = await api<{ items: TradeItem[] }>('/api/trades?limit=10');
        return page.items.length > 0 ? page.items : undefined;
      },
      Math.max(1000, 60_000 - (Date.now() - startedAt)),
    );
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    const t = trades[0];
    expect(t.side === 'buy' || t.side === 'sell').toBe(true);
    expect(Number(t.qty)).toBeGreaterThan(0);
    expect(Number(t.price)).toBeGreaterThan(0);
    const positions = await api<{ items: { symbol: string; qty: string }[] }>('/api/positions');
    expect(positions.items.some((p) => p.symbol === t.symbol)).toBe(true);
  }, 90_000);

  it('refuses the API without the token', async () => {
    const r = await fetch(`${base}/api/trades`);
    expect(r.status).toBe(401);
  });
});
