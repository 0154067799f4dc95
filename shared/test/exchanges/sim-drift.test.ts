/**
 * sync-orders on the demo, driven the way the local runner drives it: fetch-bars and sync-orders on the
 * cron, generate-signals → place-order → record-trade on their events, over real Postgres and NATS and the
 * simulated exchange. The runner interleaves these freely, and the sim fills lazily on whatever adapter
 * call comes first after a bar is stored — sync-orders' own reads included. Each simulated minute here
 * takes another interleaving (sync-orders before, between and after the others, another function's run
 * slipped in between two of sync-orders' venue calls, or everything at once); none of them may show as
 * drift. A genuine difference made at the venue must still be recorded, announced once, and resolved.
 */
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fetchBarsHandler from '../../../functions/fetch-bars/handler.ts';
import generateSignalsHandler from '../../../functions/generate-signals/handler.ts';
import placeOrderHandler from '../../../functions/place-order/handler.ts';
import recordTradeHandler from '../../../functions/record-trade/handler.ts';
import syncOrdersHandler from '../../../functions/sync-orders/handler.ts';
import { ensureDemo } from '../../src/demo/index.ts';
import { getExchange, resetExchanges, setExchange } from '../../src/exchanges/configured.ts';
import { simCash } from '../../src/exchanges/sim/index.ts';
import type { ExchangeAdapter } from '../../src/exchanges/types.ts';
import { add, sub } from '../../src/money/index.ts';
import { type FaasHandler, invokeHandler } from '../../src/runtime/index.ts';
import type { EventEnvelope } from '../../src/schemas/index.ts';
import { createTestNatsBus, natsUrl, useTestDatabase } from '../../src/testing/index.ts';
import { clearClock, count, MIN, setClock, useBus } from '../pipeline/helpers.ts';

interface SyncBody {
  orders: { checked: number; changed: number; trades: number };
  compared: boolean;
  venueReadings: number;
  positions: {
    drift: { kind: string; symbol: string; difference: string; state: string }[];
    unconfirmed: { symbol: string; difference: string }[];
  };
  cash: {
    currency: string;
    expected: string | null;
    actual: string;
    baseline: string;
    drift: { difference: string; state: string } | null;
    unconfirmed: { difference: string } | null;
  };
  resolved: number;
}

const VENUE_CALLS = [
  'getAccount',
  'getPositions',
  'getOpenOrders',
  'getOrderByClientId',
  'submitOrder',
  'cancelOrder',
] as const;

describe.skipIf(!natsUrl())('sync-orders on the running demo', () => {
  const t = useTestDatabase();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  const start = Date.UTC(2025, 2, 3, 14, 0);
  let minute = 0;

  /**
   * The process's sim with a seam: while sync-orders runs, its nth venue call first runs another step
   * (fetch-bars storing the bar that fills an order, place-order, record-trade), as a concurrent run of
   * the runner could.
   */
  let slipIn: { atCall: number; step: () => Promise<void> } | null = null;
  let syncCalls = -1;

  beforeAll(async () => {
    nats = await createTestNatsBus();
    await useBus(nats.bus);
    const real = await getExchange('sim');
    const seam = Object.create(real) as Record<string, unknown>;
    for (const name of VENUE_CALLS) {
      const call = (real[name] as (...a: unknown[]) => Promise<unknown>).bind(real);
      seam[name] = async (...args: unknown[]) => {
        if (slipIn && syncCalls >= 0 && ++syncCalls === slipIn.atCall) {
          const { step } = slipIn;
          slipIn = null;
          await step();
        }
        return call(...args);
      };
    }
    setExchange('sim', seam as unknown as ExchangeAdapter);
    await ensureDemo(t.sql, { now: start, backfillBars: 60 });
  });
  afterAll(async () => {
    clearClock();
    await resetExchanges();
    await nats?.drop();
  });

  const ok = async (handler: FaasHandler, body: unknown): Promise<unknown> => {
    const res = await invokeHandler(handler, { body, headers: { 'content-type': 'application/json' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  /** What nats-connector does with one subject: each event not yet delivered goes to the function. */
  const delivered = new Map<string, number>();
  async function deliver(type: string, handler: FaasHandler): Promise<void> {
    const rows = await t.sql<
      { id: number; event_id: string; correlation_id: string; occurred_at: Date; payload: unknown }[]
    >`SELECT id, event_id, correlation_id, occurred_at, payload FROM events
      WHERE type = ${type} AND id > ${delivered.get(type) ?? 0} ORDER BY id`;
    for (const r of rows) {
      delivered.set(type, r.id);
      const envelope = {
        id: r.event_id,
        type,
        occurredAt: r.occurred_at.toISOString(),
        correlationId: r.correlation_id,
        payload: r.payload,
      } as EventEnvelope;
      await ok(handler, envelope);
    }
  }

  const fetchBars = async () => void (await ok(fetchBarsHandler, ''));
  const generate = () => deliver('bars.fetched', generateSignalsHandler);
  const place = () => deliver('signals.created', placeOrderHandler);
  const record = () => deliver('orders.updated', recordTradeHandler);
  const sync = async () => (await ok(syncOrdersHandler, '')) as SyncBody;
  /** sync-orders with `step` run just before its nth venue call. */
  async function syncAround(atCall: number, step: () => Promise<void>): Promise<SyncBody> {
    slipIn = { atCall, step };
    syncCalls = 0;
    try {
      return await sync();
    } finally {
      syncCalls = -1;
      // A run with fewer venue calls than `atCall`: the step still runs, after it.
      const missed = slipIn as { step: () => Promise<void> } | null;
      slipIn = null;
      if (missed) await missed.step();
    }
  }

  const chain = async () => {
    await fetchBars();
    await record();
    await generate();
    await place();
    await record();
  };

  /** One simulated minute in the interleaving `mode` (the cron fires fetch-bars and sync-orders together). */
  async function minuteOf(mode: number, variant: number): Promise<SyncBody> {
    minute++;
    setClock(start + minute * MIN + 300);
    let body: SyncBody;
    switch (mode) {
      case 0: // sync-orders first
        body = await sync();
        await chain();
        break;
      case 1: // fetch-bars (which reports the fill), sync-orders, then record-trade
        await fetchBars();
        body = await sync();
        await record();
        await generate();
        await place();
        await record();
        break;
      case 2: // sync-orders between place-order and record-trade
        await fetchBars();
        await generate();
        await place();
        body = await sync();
        await record();
        break;
      case 3: // fetch-bars stores the bar in the middle of sync-orders: the sim fills on sync's own reads
        body = await syncAround(1 + variant, fetchBars);
        await record();
        await generate();
        await place();
        await record();
        break;
      case 4: // record-trade books the fill in the middle of sync-orders
        await fetchBars();
        body = await syncAround(1 + variant, record);
        await generate();
        await place();
        await record();
        break;
      case 5: // place-order submits in the middle of sync-orders
        await fetchBars();
        await record();
        await generate();
        body = await syncAround(1 + variant, place);
        await record();
        break;
      default: // everything at once
        [body] = await Promise.all([sync(), chain()]);
    }
    return body;
  }

  const driftEvents = () => count(t.sql, 'events', `type = 'positions.drift'`);
  const openDrift = (sql: Sql) =>
    sql<{ kind: string; symbol: string; difference: string }[]>`
      SELECT kind, symbol, difference FROM exchange_drift WHERE exchange = 'sim' AND resolved_at IS NULL ORDER BY kind, symbol`;

  it('shows no drift through many trading minutes in every interleaving', async () => {
    const MODES = 7;
    let bookedBySync = 0;
    let rereads = 0;
    for (let i = 0; i < MODES * 9; i++) {
      const body = await minuteOf(i % MODES, Math.floor(i / MODES));
      const at = `minute ${minute}, interleaving ${i % MODES}`;
      expect(body.compared, at).toBe(true);
      expect(body.positions.drift, at).toEqual([]);
      expect(body.cash.drift, at).toBeNull();
      // Not even a first sighting: the books are compared with the reading they match.
      expect(body.positions.unconfirmed, at).toEqual([]);
      expect(body.cash.unconfirmed, at).toBeNull();
      bookedBySync += body.orders.trades;
      if (body.venueReadings > 2) rereads++;
    }
    // The market kept trading all along, and fills landed inside sync-orders' runs: some it booked
    // itself, some between its two readings of the venue (read again until two agreed).
    expect(await count(t.sql, 'trades')).toBeGreaterThanOrEqual(15);
    expect(bookedBySync).toBeGreaterThanOrEqual(5);
    expect(rereads).toBeGreaterThanOrEqual(1);
    expect(await count(t.sql, 'exchange_drift')).toBe(0);
    expect(await driftEvents()).toBe(0);

    // A quiet minute: the books explain the venue's cash exactly, against a baseline of the starting cash.
    minute++;
    setClock(start + minute * MIN + 300);
    await chain();
    await sync();
    const last = await sync();
    expect(last.compared).toBe(true);
    expect(last.cash.baseline).not.toBe('awaiting_quiet_moment');
    expect(last.cash.expected).toBe(last.cash.actual);
    expect(last.cash.actual).toBe(await simCash(t.sql));
    const [{ baseline }] = await t.sql<{ baseline: string }[]>`
      SELECT cash_baseline AS baseline FROM exchange_sync_state WHERE exchange = 'sim'`;
    expect(baseline).toBe('100000');
  });

  it('records a difference made at the venue after two runs, announces it once, and resolves it', async () => {
    // Cash and shares appear at the venue outside Weaver.
    const extraCash = '250';
    await t.sql`UPDATE sim_accounts SET cash = cash + ${extraCash} WHERE account = 'default'`;
    await t.sql`INSERT INTO sim_positions (account, symbol, qty, avg_entry_price) VALUES ('default', 'WIDGET', 7, 12.5)`;

    const first = await minuteOf(0, 0);
    // Seen once: could be a fill in flight, so not recorded yet.
    expect(first.positions.drift).toEqual([]);
    expect(first.cash.drift).toBeNull();
    expect(first.positions.unconfirmed).toEqual([
      expect.objectContaining({ symbol: 'WIDGET', difference: '7' }),
    ]);
    expect(first.cash.unconfirmed).toMatchObject({ difference: extraCash });
    expect(await openDrift(t.sql)).toEqual([]);
    expect(await driftEvents()).toBe(0);

    const second = await minuteOf(1, 0);
    expect(second.positions.drift).toEqual([
      expect.objectContaining({ kind: 'position', symbol: 'WIDGET', difference: '7', state: 'new' }),
    ]);
    expect(second.cash.drift).toMatchObject({ difference: extraCash, state: 'new' });
    expect(await openDrift(t.sql)).toEqual([
      { kind: 'cash', symbol: 'USD', difference: extraCash },
      { kind: 'position', symbol: 'WIDGET', difference: '7' },
    ]);
    const announced = await t.sql<{ payload: { symbol: string; expected: string; actual: string } }[]>`
      SELECT payload FROM events WHERE type = 'positions.drift' ORDER BY id`;
    expect(announced.map((e) => e.payload)).toEqual([
      { exchange: 'sim', symbol: 'WIDGET', expected: '0', actual: '7' },
      { exchange: 'sim', symbol: 'USD', expected: second.cash.expected, actual: second.cash.actual },
    ]);
    expect(sub(second.cash.actual, second.cash.expected!)).toBe(extraCash);

    // Trading goes on: the same difference is not announced again, however the totals move.
    for (let i = 0; i < 14; i++) {
      const body = await minuteOf(i % 7, i);
      expect(body.positions.drift.map((d) => [d.symbol, d.difference, d.state])).toEqual([
        ['WIDGET', '7', 'ongoing'],
      ]);
      expect(body.cash.drift).toMatchObject({ difference: extraCash, state: 'ongoing' });
    }
    expect(await driftEvents()).toBe(2);

    // Put right at the venue: resolved at once, history kept.
    await t.sql`UPDATE sim_accounts SET cash = cash - ${extraCash} WHERE account = 'default'`;
    await t.sql`DELETE FROM sim_positions WHERE account = 'default' AND symbol = 'WIDGET'`;
    const fixed = await sync();
    expect(fixed.positions.drift).toEqual([]);
    expect(fixed.cash.drift).toBeNull();
    expect(fixed.resolved).toBe(2);
    expect(await openDrift(t.sql)).toEqual([]);
    expect(await count(t.sql, 'exchange_drift', 'resolved_at IS NOT NULL')).toBe(2);
    expect(await driftEvents()).toBe(2);
    expect(add(fixed.cash.expected!, '0')).toBe(fixed.cash.actual);
  });
});
