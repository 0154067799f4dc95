import { randomUUID } from 'node:crypto';
import { emit } from '@weaver/shared/bus';
import { invokeHandler } from '@weaver/shared/runtime';
import { EventEnvelopeSchema, StreamReady } from '@weaver/shared/schemas';
import { createTestDatabase, natsUrl } from '@weaver/shared/testing';
import { describe, expect, it } from 'vitest';
import { type Harness, useGateway } from './harness.ts';
import { openStream, parseSse } from './sse.ts';

/** Publishes `n` events the way functions do (audit row, then the bus) and returns their envelope ids. */
async function publish(
  h: Harness,
  n: number,
  type: 'strategies.changed' | 'trades.recorded' = 'strategies.changed',
) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r =
      type === 'strategies.changed'
        ? await emit(h.sql, h.bus, type, { name: 'alpha', change: `c${i}` }, { correlationId: randomUUID() })
        : await emit(
            h.sql,
            h.bus,
            type,
            {
              trades: [
                {
                  id: 1,
                  strategy: 'alpha',
                  symbol: 'ACME',
                  side: 'buy',
                  qty: '1',
                  price: '10',
                  realizedPnl: '0',
                },
              ],
            },
            { correlationId: randomUUID() },
          );
    ids.push(r.envelope.id);
  }
  return ids;
}

const auth = (h: Harness, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${h.token}`,
  ...extra,
});

function resumeSuite(name: string, h: Harness) {
  describe(`${name}: resumable event stream`, () => {
    it('streams events, and after a disconnect resumes at Last-Event-ID with exactly the missed events', async () => {
      const first = await openStream(`${h.url}/api/events`, auth(h));
      expect(first.status).toBe(200);
      const [ready] = await first.take(1);
      expect(ready.event).toBe('ready');
      const hello = StreamReady.parse(JSON.parse(ready.data));
      expect(hello.gap).toBe(false);
      expect(ready.id).toBe(hello.lastEventId);

      const live = await publish(h, 2);
      const got = await first.take(2);
      expect(got.map((m) => EventEnvelopeSchema.parse(JSON.parse(m.data)).id)).toEqual(live);
      const lastSeen = got[1].id as string;
      expect(Number(got[1].id)).toBeGreaterThan(Number(got[0].id));
      first.close();

      // Missed while away.
      const missed = await publish(h, 3);

      const second = await openStream(`${h.url}/api/events`, auth(h, { 'last-event-id': lastSeen }));
      const [again] = await second.take(1);
      expect(StreamReady.parse(JSON.parse(again.data))).toMatchObject({ lastEventId: lastSeen, gap: false });
      const replayed = await second.take(3);
      expect(replayed.map((m) => EventEnvelopeSchema.parse(JSON.parse(m.data)).id)).toEqual(missed);
      // Nothing else: no repeat of what was seen before the disconnect.
      expect(await second.drain(300)).toEqual([]);
      // And it carries on live.
      const after = await publish(h, 1);
      const [next] = await second.take(1);
      expect(JSON.parse(next.data).id).toBe(after[0]);
      second.close();
    });

    it('filters by type and refuses a malformed Last-Event-ID', async () => {
      const s = await openStream(`${h.url}/api/events?types=trades.recorded`, auth(h));
      await s.take(1);
      await publish(h, 1, 'strategies.changed');
      const wanted = await publish(h, 1, 'trades.recorded');
      const [m] = await s.take(1);
      expect(JSON.parse(m.data)).toMatchObject({ id: wanted[0], type: 'trades.recorded' });
      expect(await s.drain(200)).toEqual([]);
      s.close();

      const bad = await fetch(`${h.url}/api/events`, { headers: auth(h, { 'last-event-id': '12; DROP' }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { fields: object } }).error.fields).toHaveProperty(
        'last-event-id',
      );
      const badType = await fetch(`${h.url}/api/events?types=nope`, { headers: auth(h) });
      expect(badType.status).toBe(400);
    });

    it('through the OpenFaaS handler: answers one window of events, resumable the same way', async () => {
      const open = await openStream(`${h.url}/api/events`, auth(h));
      const [ready] = await open.take(1);
      open.close();
      const missed = await publish(h, 2);
      const started = Date.now();
      const res = await invokeHandler(h.handler, {
        method: 'GET',
        path: '/api/events',
        headers: auth(h, { 'last-event-id': ready.id as string }),
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      const messages = parseSse(String(res.body));
      expect(messages[0].event).toBe('ready');
      const events = messages.slice(1);
      expect(events.map((m) => JSON.parse(m.data).id)).toEqual(missed);
      // It answered as soon as it had events, not at the end of the window.
      expect(Date.now() - started).toBeLessThan(2000);
      expect(String(res.body)).toMatch(/^retry: \d+/);

      // The next window starts after the last id of this one.
      const more = await publish(h, 1);
      const next = await invokeHandler(h.handler, {
        method: 'GET',
        path: '/function/gateway/api/events',
        headers: auth(h, { 'last-event-id': events[1].id as string }),
      });
      expect(
        parseSse(String(next.body))
          .slice(1)
          .map((m) => JSON.parse(m.data).id),
      ).toEqual(more);
    });
  });
}

describe.skipIf(!natsUrl())('with NATS JetStream', () => {
  const h = useGateway({ bus: 'nats', overrides: { env: { WEAVER_SSE_WINDOW_MS: 1500 } } });
  resumeSuite('JetStream', h);

  it('reports a gap when the Last-Event-ID is beyond the stream (a recreated stream)', async () => {
    const s = await openStream(`${h.url}/api/events`, auth(h, { 'last-event-id': '999999999' }));
    const [ready] = await s.take(1);
    expect(StreamReady.parse(JSON.parse(ready.data)).gap).toBe(true);
    const ids = await publish(h, 1);
    const [m] = await s.take(1);
    expect(JSON.parse(m.data).id).toBe(ids[0]);
    s.close();
  });

  it('a buffered window with no events ends with a heartbeat after the window', async () => {
    const started = Date.now();
    const res = await invokeHandler(h.handler, { method: 'GET', path: '/api/events', headers: auth(h) });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(5000);
    expect(String(res.body)).toContain(': ping');
    expect(parseSse(String(res.body)).map((m) => m.event)).toEqual(['ready']);
  });
});

describe('with the in-process bus (events audit log)', () => {
  // The local runner's fallback without NATS: the stream is read from the audit log.
  const h = useGateway({ bus: 'memory', overrides: { env: { WEAVER_SSE_WINDOW_MS: 1500 } } });
  resumeSuite('audit log', h);

  it('is not held back by a long transaction in another database', async () => {
    const other = await createTestDatabase();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let started: () => void = () => {};
    const open = new Promise<void>((r) => (started = r));
    const long = other.sql.begin(async (tx) => {
      await tx`INSERT INTO settings (key, value) VALUES ('hold', '{}')`;
      started();
      await held;
    });
    try {
      await open;
      const s = await openStream(`${h.url}/api/events`, auth(h));
      await s.take(1);
      const ids = await publish(h, 1);
      const [m] = await s.take(1, 3000);
      expect(JSON.parse(m.data).id).toBe(ids[0]);
      s.close();
    } finally {
      release();
      await long;
      await other.drop();
    }
  });

  it('delivers an event whose transaction commits after a later one, without skipping it', async () => {
    const s = await openStream(`${h.url}/api/events`, auth(h));
    const [ready] = await s.take(1);
    // A transaction takes an event id and holds it open while another event commits with a higher id.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const slow = h.sql.begin(async (tx) => {
      await emit(
        tx as never,
        h.bus,
        'strategies.changed',
        { name: 'alpha', change: 'slow' },
        { correlationId: 'slow' },
      );
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    const fast = await publish(h, 1);
    // The reader must not move past the slow event's id while it is uncommitted.
    await new Promise((r) => setTimeout(r, 300));
    release();
    await slow;
    const got = await s.take(2);
    const ids = got.map((m) => JSON.parse(m.data).payload.change ?? '');
    expect(ids.sort()).toEqual(['c0', 'slow']);
    expect(got.map((m) => JSON.parse(m.data).id)).toContain(fast[0]);
    s.close();

    // And a reconnect from before both replays both.
    const again = await openStream(`${h.url}/api/events`, auth(h, { 'last-event-id': ready.id as string }));
    await again.take(1);
    expect((await again.take(2)).map((m) => JSON.parse(m.data).payload.change).sort()).toEqual([
      'c0',
      'slow',
    ]);
    again.close();
  });
});

describe('stream upkeep', () => {
  const h = useGateway({ overrides: { env: { WEAVER_SSE_HEARTBEAT_MS: 1000 } } });

  it('sends heartbeats on an idle stream and ends every open stream on shutdown', async () => {
    const res = await fetch(`${h.url}/api/events`, { headers: auth(h) });
    expect(res.headers.get('cache-control')).toMatch(/no-cache/);
    const reader = (res.body as ReadableStream<BufferSource>)
      .pipeThrough(new TextDecoderStream())
      .getReader();
    let text = '';
    const deadline = Date.now() + 3000;
    while (!text.includes(': ping') && Date.now() < deadline) text += (await reader.read()).value ?? '';
    expect(text).toContain(': ping');

    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    await h.gateway.close();
    await expect(Promise.race([ended, new Promise((r) => setTimeout(() => r(false), 3000))])).resolves.toBe(
      true,
    );
  });
});
