/**
 * place-order refuses to start unless the trading mode is safe: live trading on Alpaca needs
 * WEAVER_LIVE_TRADING=true and WEAVER_ALPACA_ACCOUNT_ID naming the account the keys open. Runs the
 * handler as the OpenFaaS template would, against the fake Alpaca and a private database.
 */
import { resetExchanges } from '@weaver/shared/pipeline';
import { invokeHandler } from '@weaver/shared/runtime';
import { useTestDatabase } from '@weaver/shared/testing';
import { FakeAlpaca, overrideEnv } from '@weaver/shared/testing/fake-alpaca';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import handler from './handler.ts';

const db = useTestDatabase();
let fake: FakeAlpaca;
let restoreEnv: () => void = () => {};

beforeAll(async () => {
  fake = await FakeAlpaca.start();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  restoreEnv();
  await resetExchanges();
});

function useAlpaca(vars: Record<string, string>): void {
  restoreEnv = overrideEnv({ ...fake.env(), ...vars });
}

const manualOrder = {
  order: { symbol: 'AAPL', side: 'buy', qty: '1', type: 'market', clientOrderId: 'live-check-1' },
};

describe('place-order trading mode', () => {
  it('refuses to start live with an account id the keys do not open, naming the variable', async () => {
    useAlpaca({ WEAVER_LIVE_TRADING: 'true', WEAVER_ALPACA_ACCOUNT_ID: 'someone-elses-account' });
    const res = await invokeHandler(handler, { body: manualOrder });
    expect(res.status).toBe(500);
    const body = res.body as { error: { code: string; message: string; fields: Record<string, string> } };
    expect(body.error.code).toBe('config_invalid');
    expect(body.error.fields).toHaveProperty('WEAVER_ALPACA_ACCOUNT_ID');
    expect(body.error.message).toMatch(/does not match the account the alpaca keys open/);
    expect(fake.requestsTo('POST /v2/orders')).toHaveLength(0);
    const [{ n }] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM orders`;
    expect(n).toBe(0);
  });

  it('refuses to start live without WEAVER_ALPACA_ACCOUNT_ID', async () => {
    useAlpaca({ WEAVER_LIVE_TRADING: 'true' });
    const res = await invokeHandler(handler, { body: manualOrder });
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).toMatch(/WEAVER_ALPACA_ACCOUNT_ID is required for live trading/);
    expect(fake.requestsTo('POST /v2/orders')).toHaveLength(0);
  });

  it('trades on paper by default', async () => {
    useAlpaca({});
    fake.setPrice('AAPL', 150);
    const res = await invokeHandler(handler, { body: manualOrder });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(fake.orders('live-check-1')).toHaveLength(1);
  });
});
