import { makeEnvelope } from '@weaver/shared/bus';
import { listSignals } from '@weaver/shared/db';
import { invokeHandler } from '@weaver/shared/runtime';
import type { EventEnvelope } from '@weaver/shared/schemas';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  barsFrom,
  CROSS_DOWN_AFTER,
  CROSS_UP,
  eventually,
  expectRejected,
  HUGE_BODY,
  MIN,
  makeStrategy,
  storeBars,
  useBus,
} from '../../shared/test/pipeline/helpers.ts';
import handler from './handler.ts';

const T0 = Date.UTC(2024, 11, 2, 15, 0);

describe.skipIf(!natsUrl())('generate-signals function', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  const events: EventEnvelope[] = [];
  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    nats.bus.subscribe('signals.created', (e) => {
      events.push(e);
    });
    await storeBars(t.sql, barsFrom('GSIG', T0, CROSS_UP));
    await makeStrategy(t.sql, { name: 'gsig', symbols: ['GSIG'] });
  });
  afterAll(async () => {
    await nats?.drop();
  });

  it('over HTTP: stores the signal of the newest bar and publishes signals.created', async () => {
    const res = await invokeHandler(handler, { body: {}, headers: { 'x-correlation-id': 'http-1' } });
    expect(res.status).toBe(200);
    const body = res.body as { signalIds: number[]; strategies: unknown[] };
    expect(body.strategies).toEqual([{ name: 'gsig', status: 'ok', evaluated: 1, signals: 1 }]);
    const [signal] = (await listSignals(t.sql, { strategy: 'gsig' })).items;
    expect(signal).toMatchObject({
      id: body.signalIds[0],
      symbol: 'GSIG',
      side: 'buy',
      price: 104,
      status: 'new',
      barTime: new Date(T0 + 8 * MIN).toISOString(),
    });
    const event = await eventually(async () => events.find((e) => e.correlationId === 'http-1'));
    expect(event.payload).toEqual({ signalIds: body.signalIds });
  });

  it('on bars.fetched (as nats-connector delivers it): evaluates the new bars, carries the correlation id', async () => {
    await storeBars(t.sql, barsFrom('GSIG', T0 + 9 * MIN, CROSS_DOWN_AFTER));
    const envelope = makeEnvelope(
      'bars.fetched',
      {
        exchange: 'sim',
        timeframe: '1Min',
        symbols: ['GSIG'],
        count: 3,
        latest: new Date(T0 + 11 * MIN).toISOString(),
      },
      { correlationId: 'chain-7', id: 'bars-7' },
    );
    const res = await invokeHandler(handler, { body: JSON.parse(JSON.stringify(envelope)) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ strategies: [{ name: 'gsig', evaluated: 3, signals: 1 }] });
    const event = await eventually(async () => events.find((e) => e.correlationId === 'chain-7'));
    const [sell] = (await listSignals(t.sql, { strategy: 'gsig', limit: 1 })).items;
    expect(sell).toMatchObject({ side: 'sell', barTime: new Date(T0 + 11 * MIN).toISOString() });
    expect(event.payload).toEqual({ signalIds: [sell.id] });
    // redelivered: nothing new
    const again = await invokeHandler(handler, { body: JSON.parse(JSON.stringify(envelope)) });
    expect(again.body).toMatchObject({ signalIds: [], strategies: [{ evaluated: 0, signals: 0 }] });
  });

  it('answers 4xx naming the field for bad input, and writes nothing', async () => {
    await expectRejected(t.sql, handler, { strategies: 'gsig' }, 400, 'strategies');
    await expectRejected(t.sql, handler, { strategies: ['Not A Slug'] }, 400, 'strategies.0');
    await expectRejected(t.sql, handler, { strategies: ['unknown-one'] }, 404, 'strategies.0');
    await expectRejected(t.sql, handler, { timeframe: 60 }, 400, 'timeframe');
    await expectRejected(t.sql, handler, { symbols: ['GSIG', 7] }, 400, 'symbols.1');
    await expectRejected(t.sql, handler, { count: -1 }, 400, 'count');
    const badEvent = {
      id: 'e1',
      type: 'bars.fetched',
      occurredAt: new Date().toISOString(),
      correlationId: 'c',
      payload: { exchange: 'sim', timeframe: '1Min', symbols: [], count: 1, latest: null },
    };
    await expectRejected(t.sql, handler, badEvent, 400, 'payload.symbols');
    await expectRejected(t.sql, handler, HUGE_BODY, 413, 'body');
  });
});
