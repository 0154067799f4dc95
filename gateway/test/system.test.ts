import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emit } from '@weaver/shared/bus';
import { AuditPage, BarSeriesList, BarsResponse, RunPage, SystemStatus } from '@weaver/shared/schemas';
import { natsUrl } from '@weaver/shared/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedBars } from './fixtures.ts';
import { useGateway } from './harness.ts';

const stackFile = join(mkdtempSync(join(tmpdir(), 'weaver-stack-')), 'stack.yml');
writeFileSync(
  stackFile,
  `version: 1.0
provider: { name: openfaas, gateway: http://127.0.0.1:8080 }
functions:
  tick:
    lang: node22
    handler: ./build/tick
    image: tick
    annotations: { topic: cron-function, schedule: "* * * * *" }
  react:
    lang: node22
    handler: ./build/react
    image: react
    annotations: { topic: "weaver.bars.fetched,weaver.signals.created" }
  calm:
    lang: node22
    handler: ./build/calm
    image: calm
    annotations: { topic: weaver.orders.updated }
  web:
    lang: node22
    handler: ./build/web
    image: web
`,
);

type ErrorAnswer = { error: { code: string; fields: Record<string, string> } };

describe('system', () => {
  const h = useGateway({ overrides: { env: { WEAVER_STACK_FILE: stackFile } } });

  beforeAll(async () => {
    await h.sql`
      INSERT INTO function_runs (function_name, started_at, finished_at, outcome, status_code, error) VALUES
        ('tick', now() - interval '10 minutes', now() - interval '10 minutes', 'ok', 200, NULL),
        ('react', now() - interval '2 minutes', now() - interval '2 minutes', 'ok', 200, NULL),
        ('react', now() - interval '1 minute', now() - interval '1 minute', 'error', 500, 'boom'),
        ('calm', now() - interval '30 seconds', now() - interval '30 seconds', 'ok', 200, NULL),
        ('calm', now() - interval '2 days', now() - interval '2 days', 'error', 500, 'old failure'),
        ('legacy', now() - interval '1 hour', now() - interval '1 hour', 'rejected', 400, 'bad input')`;
  });

  it("reports each function's trigger, health, last run and error counts, the database and the bus", async () => {
    const { status, body } = await h.json('/api/system');
    expect(status).toBe(200);
    const s = SystemStatus.parse(body);
    const by = new Map(s.functions.map((f) => [f.name, f]));
    expect(by.get('tick')).toMatchObject({
      trigger: 'cron',
      schedule: '* * * * *',
      health: 'stale',
      runs24h: 1,
    });
    expect(by.get('react')).toMatchObject({
      trigger: 'topic',
      topics: ['weaver.bars.fetched', 'weaver.signals.created'],
      health: 'failing',
      runs24h: 2,
      errors24h: 1,
      lastError: { error: 'boom' },
    });
    expect(by.get('calm')).toMatchObject({ health: 'ok', errors24h: 0, lastError: { error: 'old failure' } });
    expect(by.get('web')).toMatchObject({ trigger: 'http', health: 'idle', lastRun: null, runs24h: 0 });
    // Functions that ran but are not in stack.yml still show up.
    expect(by.get('legacy')).toMatchObject({ trigger: 'http', health: 'ok' });
    expect(s.database.ok).toBe(true);
    expect(s.database.version).toMatch(/^\d+/);
    expect(s.bus).toMatchObject({ mode: h.busMode, ok: true });
    expect(s.halt).toEqual({ halted: false, halts: [] });
  });

  it('pages function runs and the audit log with filters', async () => {
    const runs = RunPage.parse((await h.json('/api/system/runs?function=react&limit=1')).body);
    expect(runs.items).toHaveLength(1);
    expect(runs.items[0]).toMatchObject({ functionName: 'react', outcome: 'error', error: 'boom' });
    const older = RunPage.parse(
      (await h.json(`/api/system/runs?function=react&limit=1&cursor=${runs.nextCursor}`)).body,
    );
    expect(older.items[0]).toMatchObject({ functionName: 'react', outcome: 'ok' });
    expect(older.nextCursor).toBeNull();
    const errors = RunPage.parse((await h.json('/api/system/runs?outcome=error')).body);
    expect(errors.items.map((r) => r.error)).toEqual(['boom', 'old failure']);
    expect((await h.json<ErrorAnswer>('/api/system/runs?outcome=maybe')).status).toBe(400);

    for (let i = 0; i < 3; i++) {
      await emit(
        h.sql,
        h.bus,
        'strategies.changed',
        { name: 'alpha', change: `n${i}` },
        { correlationId: 'corr-a' },
      );
    }
    await emit(h.sql, h.bus, 'risk.resumed', { scope: 'global' }, { correlationId: randomUUID() });
    const first = AuditPage.parse((await h.json('/api/system/events?type=strategies.changed&limit=2')).body);
    expect(first.items.map((e) => (e.payload as { change: string }).change)).toEqual(['n2', 'n1']);
    const rest = AuditPage.parse(
      (await h.json(`/api/system/events?type=strategies.changed&limit=2&cursor=${first.nextCursor}`)).body,
    );
    expect(rest.items.map((e) => (e.payload as { change: string }).change)).toEqual(['n0']);
    const byCorrelation = AuditPage.parse((await h.json('/api/system/events?correlationId=corr-a')).body);
    expect(byCorrelation.items).toHaveLength(3);
    const both = AuditPage.parse(
      (await h.json('/api/system/events?type=risk.resumed,strategies.changed')).body,
    );
    expect(both.items).toHaveLength(4);
    const bad = await h.json<ErrorAnswer>('/api/system/events?cursor=bm9wZQ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toHaveProperty('cursor');
  });
});

describe.skipIf(!natsUrl())('system with NATS', () => {
  const h = useGateway({ bus: 'nats', overrides: { env: { WEAVER_STACK_FILE: stackFile } } });
  it('reports the JetStream stream', async () => {
    const s = SystemStatus.parse((await h.json('/api/system')).body);
    expect(s.bus.mode).toBe('nats');
    expect(s.bus.ok).toBe(true);
    expect(s.bus.rttMs).toBeGreaterThanOrEqual(0);
    expect(s.bus.stream?.name).toMatch(/^T_/);
  });
});

describe("system on the local runner's in-process bus", () => {
  const h = useGateway({ bus: 'memory', overrides: { env: { WEAVER_STACK_FILE: stackFile } } });
  it('reports the bus as memory, with no stream', async () => {
    const s = SystemStatus.parse((await h.json('/api/system')).body);
    expect(s.bus).toMatchObject({ mode: 'memory', ok: true, stream: null });
  });
});

describe('bars for charts', () => {
  const h = useGateway();
  const start = '2025-02-03T14:30:00.000Z';

  beforeAll(async () => {
    await seedBars(h.sql, 'ACME', start, 600);
  });

  it('answers the newest bars up to `width`, oldest first', async () => {
    const r = BarsResponse.parse((await h.json('/api/bars?symbol=acme&timeframe=1Min&width=100')).body);
    expect(r).toMatchObject({ symbol: 'ACME', timeframe: '1Min', bucketMs: 60_000, downsampled: false });
    expect(r.bars).toHaveLength(100);
    expect(r.bars[99].time).toBe(new Date(Date.parse(start) + 599 * 60_000).toISOString());
    expect(Date.parse(r.bars[0].time)).toBeLessThan(Date.parse(r.bars[1].time));
  });

  it('downsamples a long range into OHLCV buckets in SQL', async () => {
    const from = start;
    const to = new Date(Date.parse(start) + 599 * 60_000).toISOString();
    const r = BarsResponse.parse(
      (await h.json(`/api/bars?symbol=ACME&timeframe=1Min&from=${from}&to=${to}&width=60`)).body,
    );
    expect(r.downsampled).toBe(true);
    expect(r.bucketMs).toBe(10 * 60_000);
    expect(r.bars.length).toBeLessThanOrEqual(61);
    expect(r.bars.length).toBeGreaterThanOrEqual(60);
    // Check one whole bucket against the bars it covers.
    const b = r.bars[1];
    const rows = await h.sql<{ open: number; high: number; low: number; close: number; volume: number }[]>`
      SELECT open, high, low, close, volume FROM bars
      WHERE symbol = 'ACME' AND ts >= ${b.time}::timestamptz AND ts < ${b.time}::timestamptz + interval '10 minutes'
      ORDER BY ts`;
    expect(rows).toHaveLength(10);
    expect(b.open).toBe(rows[0].open);
    expect(b.close).toBe(rows[9].close);
    expect(b.high).toBe(Math.max(...rows.map((x) => x.high)));
    expect(b.low).toBe(Math.min(...rows.map((x) => x.low)));
    expect(b.volume).toBe(rows.reduce((s, x) => s + x.volume, 0));
    // A range that fits the width is not aggregated.
    const small = BarsResponse.parse(
      (
        await h.json(
          `/api/bars?symbol=ACME&timeframe=1Min&from=${from}&to=${new Date(Date.parse(from) + 30 * 60_000).toISOString()}`,
        )
      ).body,
    );
    expect(small.downsampled).toBe(false);
    expect(small.bars).toHaveLength(31);
  });

  it('refuses bad chart queries naming the field, and lists the stored series', async () => {
    for (const [qs, field] of [
      ['timeframe=1Min', 'symbol'],
      ['symbol=ACME&timeframe=2Min', 'timeframe'],
      ['symbol=ACME&timeframe=1Min&width=5', 'width'],
      ['symbol=ACME&timeframe=1Min&to=2020-01-01&from=2021-01-01', 'from'],
    ]) {
      const res = await h.json<ErrorAnswer>(`/api/bars?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(res.body.error.fields, qs).toHaveProperty(field);
    }
    const series = BarSeriesList.parse((await h.json('/api/bars/series')).body);
    expect(series.items).toEqual([
      {
        symbol: 'ACME',
        timeframe: '1Min',
        first: start,
        last: new Date(Date.parse(start) + 599 * 60_000).toISOString(),
      },
    ]);
  });
});
