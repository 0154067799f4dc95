/**
 * Paper by default, live only on explicit opt-in with the account the keys really open: checked against
 * the fake Alpaca over HTTP, with nothing ever sent to the order endpoint when the check fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/index.ts';
import { createSimExchange } from '../../src/exchanges/sim/index.ts';
import { assertTradingMode, TradingModeError } from '../../src/exchanges/trading-mode.ts';
import { FakeAlpaca } from '../../src/testing/fake-alpaca/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { alpacaFor, intent } from './alpaca-helpers.ts';

// Adapters count retries and errors in the process's database (/metrics): a private one.
useTestDatabase();
let fake: FakeAlpaca;
beforeAll(async () => {
  fake = await FakeAlpaca.start();
});
afterAll(async () => {
  await fake.close();
});

const paperEnv = parseEnv({});
const liveEnv = (accountId?: string) =>
  parseEnv({ WEAVER_LIVE_TRADING: 'true', ...(accountId ? { WEAVER_ALPACA_ACCOUNT_ID: accountId } : {}) });

const refusal = async (p: Promise<unknown>): Promise<TradingModeError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TradingModeError);
  return err as TradingModeError;
};

describe('trading mode', () => {
  it('is paper by default', async () => {
    const a = await alpacaFor(fake);
    expect(a.live).toBe(false);
    expect(await assertTradingMode(a, paperEnv)).toEqual({
      mode: 'paper',
      exchange: 'alpaca',
      accountId: null,
    });
  });

  it('is simulated on the sim exchange, and refuses live trading there', async () => {
    expect(await assertTradingMode(createSimExchange({}), paperEnv)).toMatchObject({ mode: 'simulated' });
    const err = await refusal(assertTradingMode(createSimExchange({}), liveEnv('x')));
    expect(err.fields).toHaveProperty('WEAVER_LIVE_TRADING');
    expect(err.message).toMatch(/^place-order refuses to start: WEAVER_LIVE_TRADING/);
  });

  it('refuses a paper adapter when live trading was asked for', async () => {
    const err = await refusal(assertTradingMode(await alpacaFor(fake), liveEnv(fake.trading.accountId)));
    expect(err.message).toMatch(/configured for paper trading/);
  });

  it('refuses a live adapter without WEAVER_LIVE_TRADING=true', async () => {
    const live = await alpacaFor(fake, { paper: false, accountId: fake.trading.accountId });
    const err = await refusal(assertTradingMode(live, paperEnv));
    expect(err.fields).toHaveProperty('WEAVER_LIVE_TRADING');
  });

  it('refuses live trading without an account id, or with one the keys do not open', async () => {
    const live = await alpacaFor(fake, { paper: false });
    const missing = await refusal(assertTradingMode(live, liveEnv()));
    expect(missing.fields).toHaveProperty('WEAVER_ALPACA_ACCOUNT_ID');
    expect(missing.message).toMatch(/is required for live trading/);
    const wrong = await refusal(assertTradingMode(live, liveEnv('some-other-account')));
    expect(wrong.message).toMatch(/does not match the account the alpaca keys open/);
    expect(fake.requestsTo('GET /v2/account').length).toBeGreaterThan(0);
    expect(fake.requestsTo('POST /v2/orders')).toHaveLength(0);
  });

  it('allows live trading when the keys open the configured account (by id or account number)', async () => {
    const byId = await alpacaFor(fake, { paper: false });
    expect(await assertTradingMode(byId, liveEnv(fake.trading.accountId))).toEqual({
      mode: 'live',
      exchange: 'alpaca',
      accountId: fake.trading.accountId,
    });
    const byNumber = await alpacaFor(fake, { paper: false });
    expect((await assertTradingMode(byNumber, liveEnv(fake.trading.accountNumber))).mode).toBe('live');
  });

  it('never sends a live order from an adapter whose account check fails, even if place-order did not ask', async () => {
    const live = await alpacaFor(fake, { paper: false, accountId: 'not-this-account' });
    const err = await refusal(live.submitOrder(intent({ symbol: 'AAPL' })));
    expect(err.fields).toHaveProperty('WEAVER_ALPACA_ACCOUNT_ID');
    expect(fake.requestsTo('POST /v2/orders')).toHaveLength(0);
    const ok = await alpacaFor(fake, { paper: false, accountId: fake.trading.accountId });
    expect((await ok.submitOrder(intent({ symbol: 'AAPL' }))).status).toBe('filled');
    expect(fake.requestsTo('POST /v2/orders')).toHaveLength(1);
  });
});
