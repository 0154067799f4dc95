/**
 * Alpaca's refusals reach the order's row (error_code / error_message, what the API and UI show) when
 * orders go through the pipeline: 403 insufficient buying power, orders the venue's rules cannot take. (A 422 duplicate client_order_id is covered at the adapter: the
 * pipeline resolves that code itself by adopting the venue's order.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetExchanges } from '../../src/exchanges/configured.ts';
import { ManualOrderInput, placeManualOrder } from '../../src/pipeline/index.ts';
import { FakeAlpaca, overrideEnv } from '../../src/testing/fake-alpaca/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { pipelineContext, RecordingBus, useBus } from '../pipeline/helpers.ts';

const t = useTestDatabase();
const bus = new RecordingBus();
let fake: FakeAlpaca;
let restoreEnv: () => void = () => {};

beforeAll(async () => {
  fake = await FakeAlpaca.start({ cash: '10000' });
  restoreEnv = overrideEnv(fake.env());
  await useBus(bus);
});
afterAll(async () => {
  restoreEnv();
  await resetExchanges();
  await fake.close();
});

const place = (o: Record<string, unknown>) =>
  placeManualOrder(pipelineContext(t.sql, bus), ManualOrderInput.parse(o));

describe('exchange errors on the order row', () => {
  it('403 insufficient buying power', async () => {
    fake.setPrice('SPY', 500);
    const r = await place({ symbol: 'SPY', side: 'buy', qty: '100', clientOrderId: 'err-403' });
    expect(r.outcome).toBe('failed');
    expect(r.order).toMatchObject({ status: 'failed', errorCode: 'insufficient_funds' });
    expect(r.order?.errorMessage).toMatch(/insufficient buying power \(HTTP 403\)/);
    expect(fake.orders('err-403')).toHaveLength(0);
  });

  it('an order the venue rules refuse, before it leaves', async () => {
    fake.setPrice('GME', 20);
    const posts = fake.requestsTo('POST /v2/orders').length;
    const r = await place({ symbol: 'GME', side: 'buy', qty: '0.5', clientOrderId: 'err-frac' });
    expect(r.order).toMatchObject({ status: 'failed', errorCode: 'invalid_order' });
    expect(r.order?.errorMessage).toMatch(/^qty /);
    expect(fake.requestsTo('POST /v2/orders').length).toBe(posts);
  });

  it('the same order placed twice is one order at the venue', async () => {
    fake.setPrice('AAPL', 150);
    const first = await place({ symbol: 'AAPL', side: 'buy', qty: '2', clientOrderId: 'once-only' });
    const again = await place({ symbol: 'AAPL', side: 'buy', qty: '2', clientOrderId: 'once-only' });
    expect(first.order?.id).toBe(again.order?.id);
    expect(fake.orders('once-only')).toHaveLength(1);
  });
});
