import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEnvelope } from '@weaver/shared/bus';
import { setLogDestination } from '@weaver/shared/log';
import { invokeHandler } from '@weaver/shared/runtime';
import { useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeReceiver } from '../../shared/test/notify/fake-receiver.ts';
import handler from './handler.ts';

describe('notify function', () => {
  const tdb = useTestDatabase();
  const rx = new FakeReceiver();
  let dir: string;
  beforeAll(async () => {
    await rx.start();
    dir = mkdtempSync(join(tmpdir(), 'weaver-notify-'));
    process.env.WEAVER_SECRETS_DIR = dir;
    writeFileSync(join(dir, 'notify-webhook'), `${rx.url}/hook`);
    writeFileSync(join(dir, 'notify-slack'), `${rx.url}/slack`);
  });
  afterAll(async () => {
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
    delete process.env.WEAVER_SECRETS_DIR;
  });

  const trade = makeEnvelope(
    'trades.recorded',
    {
      trades: [
        { id: 11, strategy: 'sma', symbol: 'AAPL', side: 'buy', qty: '3', price: '190', realizedPnl: '0' },
      ],
    },
    { correlationId: 'corr-notify' },
  );

  it('turns a delivered event into one message per channel, and a redelivery into none', async () => {
    const res = await invokeHandler(handler, {
      body: trade,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(rx.at('/hook')).toHaveLength(1);
    expect(rx.at('/hook')[0].body).toMatchObject({
      kind: 'fill',
      title: 'Filled: BUY 3 AAPL @ 190',
      correlationId: 'corr-notify',
    });
    expect((rx.at('/slack')[0].body as { text: string }).text).toContain('Filled: BUY 3 AAPL @ 190');
    const again = await invokeHandler(handler, { body: JSON.stringify(trade) });
    expect(again.status).toBe(200);
    expect(rx.received).toHaveLength(2);
    const [run] =
      await tdb.sql`SELECT outcome, trigger, correlation_id FROM function_runs WHERE function_name = 'notify' ORDER BY id LIMIT 1`;
    expect(run).toEqual({ outcome: 'ok', trigger: 'event:trades.recorded', correlation_id: 'corr-notify' });
  });

  it('answers 400 naming the field for a malformed direct notification, and sends nothing', async () => {
    rx.reset();
    const res = await invokeHandler(handler, { body: { kind: 'fill', title: '' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'invalid_input', fields: { title: expect.any(String) } },
    });
    const bad = await invokeHandler(handler, { body: { kind: 'gossip', title: 'x' } });
    expect((bad.body as { error: { fields: Record<string, string> } }).error.fields).toHaveProperty('kind');
    expect(rx.received).toHaveLength(0);
  });

  it('reports a channel that keeps failing as 502 naming the channel; the other channel still gets it', async () => {
    rx.reset();
    rx.script('/slack', { status: 403, body: 'action_prohibited' });
    const res = await invokeHandler(handler, { body: { kind: 'test', title: 'hello', dedupeKey: 'k-502' } });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      error: { code: 'notify_failed', fields: { slack: 'HTTP 403: action_prohibited' } },
    });
    expect(rx.at('/hook')).toHaveLength(1);
  });
});

describe('notify function with no channel configured', () => {
  const tdb = useTestDatabase();
  const lines: { level: string; msg: string }[] = [];
  let dir: string;
  beforeAll(() => {
    // An empty secrets folder and no channel variables: what the demo runs with.
    dir = mkdtempSync(join(tmpdir(), 'weaver-notify-none-'));
    process.env.WEAVER_SECRETS_DIR = dir;
    for (const name of ['TELEGRAM', 'DISCORD', 'SLACK', 'WEBHOOK'])
      delete process.env[`WEAVER_NOTIFY_${name}`];
    setLogDestination((line) => lines.push(JSON.parse(line)));
  });
  afterAll(() => {
    setLogDestination((line) => process.stdout.write(line));
    rmSync(dir, { recursive: true, force: true });
    delete process.env.WEAVER_SECRETS_DIR;
  });

  it('says so once per process, at info, and sends nothing', async () => {
    for (const id of [21, 22, 23]) {
      const event = makeEnvelope(
        'trades.recorded',
        {
          trades: [
            { id, strategy: 'sma', symbol: 'AAPL', side: 'buy', qty: '1', price: '190', realizedPnl: '0' },
          ],
        },
        { correlationId: `corr-none-${id}` },
      );
      const res = await invokeHandler(handler, {
        body: event,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ channels: [], invalidChannels: {} });
    }
    const notes = lines.filter((l) => /no notification channel/.test(l.msg));
    expect(notes).toEqual([expect.objectContaining({ level: 'info' })]);
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    // the three runs did happen (and were logged), yet no notification was written
    expect(lines.filter((l) => l.msg === 'run ok')).toHaveLength(3);
    const [{ n }] = await tdb.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM notifications`;
    expect(n).toBe(0);
  });
});
