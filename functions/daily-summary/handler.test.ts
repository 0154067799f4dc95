import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invokeHandler } from '@weaver/shared/runtime';
import { useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeReceiver } from '../../shared/test/notify/fake-receiver.ts';
import handler from './handler.ts';

describe('daily-summary function', () => {
  const tdb = useTestDatabase();
  const rx = new FakeReceiver();
  let dir: string;
  beforeAll(async () => {
    await rx.start();
    dir = mkdtempSync(join(tmpdir(), 'weaver-summary-'));
    process.env.WEAVER_SECRETS_DIR = dir;
    writeFileSync(join(dir, 'notify-discord'), `${rx.url}/api/webhooks/1/tok`);
    rx.script('/api/webhooks/1/tok', { status: 204 });
  });
  afterAll(async () => {
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
    delete process.env.WEAVER_SECRETS_DIR;
  });

  it('sends the day once, however often cron fires; force sends again', async () => {
    await tdb.sql`INSERT INTO account_snapshots (exchange, cash, equity, buying_power, at) VALUES
      ('sim', 1, 1000, 1, '2026-04-01T12:00:00Z'), ('sim', 1, 1010, 1, '2026-04-02T12:00:00Z')`;
    const first = await invokeHandler(handler, { body: { date: '2026-04-02' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      summary: { date: '2026-04-02', equity: [{ equity: '1010', change: '10' }] },
    });
    const embed = (
      rx.received[0].body as { embeds: { title: string; fields: { name: string; value: string }[] }[] }
    ).embeds[0];
    expect(embed.title).toContain('Daily summary 2026-04-02');
    expect(embed.fields).toContainEqual({ name: 'Equity (sim)', value: '1010 (+10)', inline: true });
    await invokeHandler(handler, { body: { date: '2026-04-02' } });
    expect(rx.received).toHaveLength(1);
    await invokeHandler(handler, { body: { date: '2026-04-02', force: true } });
    expect(rx.received).toHaveLength(2);
  });

  it('cron-connector posts an empty body: today (UTC) is summarised', async () => {
    const res = await invokeHandler(handler, { body: '' });
    expect(res.status).toBe(200);
    expect((res.body as { summary: { date: string } }).summary.date).toBe(
      new Date().toISOString().slice(0, 10),
    );
  });

  it('a malformed date is a 400 naming the field', async () => {
    const res = await invokeHandler(handler, { body: { date: '2026-13-45' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { fields: { date: expect.any(String) } } });
  });
});
