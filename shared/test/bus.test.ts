import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bus,
  MemoryBus,
  makeEnvelope,
  parseEnvelope,
  publishEvent,
  subjectMatches,
} from '../src/bus/index.ts';
import type { EventEnvelope } from '../src/schemas/index.ts';
import { createTestNatsBus, natsUrl } from '../src/testing/index.ts';

const payload = { exchange: 'sim', timeframe: '1Min' as const, symbols: ['ACME'], count: 1, latest: null };

function collect(bus: Bus, pattern: string): EventEnvelope[] {
  const got: EventEnvelope[] = [];
  bus.subscribe(pattern, (e) => {
    got.push(e);
  });
  return got;
}

const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

describe('envelopes', () => {
  it('validate payloads on publish and on receipt, naming the field', () => {
    expect(() => makeEnvelope('bars.fetched', { ...payload, count: -1 }, { correlationId: 'c1' })).toThrow(
      /invalid bars.fetched payload/,
    );
    expect(() =>
      parseEnvelope(
        '{"id":"x","type":"bars.fetched","occurredAt":"2024-01-01T00:00:00Z","correlationId":"c","payload":{}}',
      ),
    ).toThrow(/invalid event envelope/);
    const e = makeEnvelope('bars.fetched', payload, { correlationId: 'c1' });
    expect(parseEnvelope(JSON.stringify(e))).toEqual(e);
  });
  it('match subjects with NATS wildcards', () => {
    expect(subjectMatches('weaver.>', 'weaver.bars.fetched')).toBe(true);
    expect(subjectMatches('weaver.*.fetched', 'weaver.bars.fetched')).toBe(true);
    expect(subjectMatches('weaver.bars.fetched', 'weaver.bars.fetched')).toBe(true);
    expect(subjectMatches('weaver.bars', 'weaver.bars.fetched')).toBe(false);
    expect(subjectMatches('weaver.>', 'weaver')).toBe(false);
  });
});

describe('in-process bus', () => {
  it('delivers by subject and drops a repeated message id', async () => {
    const bus = new MemoryBus('weaver');
    const all = collect(bus, '>');
    const bars = collect(bus, 'bars.fetched');
    const signals = collect(bus, 'signals.created');
    await publishEvent(bus, 'bars.fetched', payload, { correlationId: 'c1', id: 'same' });
    const again = await publishEvent(bus, 'bars.fetched', payload, { correlationId: 'c1', id: 'same' });
    await settle();
    expect(again.duplicate).toBe(true);
    expect(all).toHaveLength(1);
    expect(bars).toHaveLength(1);
    expect(signals).toHaveLength(0);
  });
});

describe.skipIf(!natsUrl())('NATS bus (JetStream)', () => {
  let t: Awaited<ReturnType<typeof createTestNatsBus>>;
  beforeAll(async () => {
    t = await createTestNatsBus();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('publishes into the stream, de-duplicates by Nats-Msg-Id, and reaches core subscribers', async () => {
    const got = collect(t.bus, 'bars.*');
    const a = await publishEvent(t.bus, 'bars.fetched', payload, { correlationId: 'c1', id: 'evt-1' });
    const b = await publishEvent(t.bus, 'bars.fetched', payload, { correlationId: 'c1', id: 'evt-1' });
    const c = await publishEvent(t.bus, 'bars.fetched', payload, { correlationId: 'c2', id: 'evt-2' });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(c.seq).toBe(a.seq + 1);
    await settle(200);
    // core subscribers see every publish; the stream keeps one copy per id
    expect(got.map((e) => e.id)).toContain('evt-2');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(t.bus.nc);
    const info = await jsm.streams.info(t.stream);
    expect(info.state.messages).toBe(2);
    expect(info.config.subjects).toEqual([`${t.prefix}.>`]);
  });
});
