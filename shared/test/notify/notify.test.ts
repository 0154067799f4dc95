import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, Secret } from '../../src/config/index.ts';
import { setLogDestination } from '../../src/log/index.ts';
import {
  type ConfiguredChannel,
  channelConfig,
  configuredChannels,
  deliver,
  Notification,
  notifyAll,
} from '../../src/notify/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';
import { FakeReceiver } from './fake-receiver.ts';

const TOKEN = '123456789:AAH-telegram-token-secret';
const DISCORD = '/api/webhooks/111/discord-webhook-token-secret';
const SLACK = '/services/T000/B000/slack-token-secret';

const message = Notification.parse({
  kind: 'fill',
  severity: 'warning',
  title: 'Filled: BUY 10 AAPL @ 187.5 <sma>',
  text: 'P&L <b>not</b> markup',
  fields: [
    { name: 'Strategy', value: 'sma' },
    { name: 'Realized P&L', value: '-3.5' },
  ],
  occurredAt: '2026-01-02T15:00:00.000Z',
  correlationId: 'corr-1',
});

const fast = { baseDelayMs: 5, maxDelayMs: 50, timeoutMs: 2000 };

describe('notification channels', () => {
  const rx = new FakeReceiver();
  let dir: string;
  const env = { ...process.env };
  beforeAll(async () => {
    await rx.start();
    dir = mkdtempSync(join(tmpdir(), 'weaver-secrets-'));
    process.env.WEAVER_SECRETS_DIR = dir;
    // Secrets as faas-cli mounts them: one file each, trailing newline included.
    writeFileSync(join(dir, 'notify-telegram'), `${rx.url}/bot${TOKEN}/sendMessage?chat_id=-1001234\n`);
    writeFileSync(join(dir, 'notify-discord'), `${rx.url}${DISCORD}\n`);
    writeFileSync(join(dir, 'notify-slack'), `${rx.url}${SLACK}`);
    writeFileSync(join(dir, 'notify-webhook'), `${rx.url}/hooks/weaver`);
  });
  // Telegram answers every call with a JSON document whose `ok` tells success.
  const telegramOk = () =>
    rx.script(`/bot${TOKEN}/sendMessage`, {
      status: 200,
      body: JSON.stringify({ ok: true, result: { message_id: 7 } }),
    });
  beforeEach(telegramOk);
  afterEach(() => rx.reset());
  afterAll(async () => {
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
    process.env = env;
  });
  const ch = (name: 'telegram' | 'discord' | 'slack' | 'webhook'): ConfiguredChannel => channelConfig(name)!;

  it('reads every channel from its OpenFaaS secret', () => {
    const { channels, invalid } = configuredChannels();
    expect(channels.map((c) => c.channel.name)).toEqual(['telegram', 'discord', 'slack', 'webhook']);
    expect(invalid).toEqual({});
  });

  it('Telegram: sendMessage with chat_id, HTML text escaped, no previews', async () => {
    const r = await deliver(ch('telegram'), message, fast);
    expect(r).toEqual({ channel: 'telegram', ok: true, attempts: 1 });
    const [req] = rx.at(`/bot${TOKEN}/sendMessage`);
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({
      chat_id: '-1001234',
      text: '⚠️ <b>Filled: BUY 10 AAPL @ 187.5 &lt;sma&gt;</b>\nP&amp;L &lt;b&gt;not&lt;/b&gt; markup\n<b>Strategy:</b> sma\n<b>Realized P&amp;L:</b> -3.5',
      parse_mode: 'HTML',
      disable_web_page_preview: true,
    });
  });

  it('Telegram: an HTTP 200 without ok:true is a failure; 429 waits parameters.retry_after', async () => {
    const path = `/bot${TOKEN}/sendMessage`;
    rx.script(
      path,
      {
        status: 429,
        body: JSON.stringify({
          ok: false,
          error_code: 429,
          description: 'Too Many Requests',
          parameters: { retry_after: 0.02 },
        }),
      },
      { status: 200, body: JSON.stringify({ ok: true, result: { message_id: 1 } }) },
    );
    expect(await deliver(ch('telegram'), message, fast)).toMatchObject({ ok: true, attempts: 2 });
    rx.script(path, {
      status: 400,
      body: JSON.stringify({ ok: false, error_code: 400, description: 'Bad Request: chat not found' }),
    });
    const bad = await deliver(ch('telegram'), message, fast);
    expect(bad).toMatchObject({ ok: false, attempts: 1, error: 'HTTP 400: Bad Request: chat not found' });
  });

  it('Discord: one embed with title, description, colour, fields, timestamp; mentions disabled', async () => {
    rx.script(DISCORD, { status: 204 });
    expect(await deliver(ch('discord'), message, fast)).toMatchObject({ ok: true, attempts: 1 });
    const [req] = rx.at(DISCORD);
    expect(req.body).toEqual({
      username: 'Weaver',
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title: '⚠️ Filled: BUY 10 AAPL @ 187.5 <sma>',
          description: 'P&L <b>not</b> markup',
          color: 0xf39c12,
          fields: [
            { name: 'Strategy', value: 'sma', inline: true },
            { name: 'Realized P&L', value: '-3.5', inline: true },
          ],
          timestamp: '2026-01-02T15:00:00.000Z',
          footer: { text: 'weaver · corr-1' },
        },
      ],
    });
  });

  it('Discord: honours a 429 retry_after, and cuts an embed to its documented limits', async () => {
    rx.script(
      DISCORD,
      {
        status: 429,
        body: JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.03, global: false }),
      },
      { status: 204 },
    );
    const long = { ...message, title: 'x'.repeat(200), text: 'y'.repeat(5000) };
    const started = Date.now();
    expect(await deliver(ch('discord'), long, fast)).toMatchObject({ ok: true, attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
    const embed = (rx.at(DISCORD)[1].body as { embeds: { title: string; description: string }[] }).embeds[0];
    expect(embed.description.length).toBe(4096);
    expect(embed.description.endsWith('…')).toBe(true);
  });

  it('Slack: text fallback plus header, section, fields and context blocks', async () => {
    expect(await deliver(ch('slack'), message, fast)).toMatchObject({ ok: true });
    const [req] = rx.at(SLACK);
    expect(req.body).toEqual({
      text: '*⚠️ Filled: BUY 10 AAPL @ 187.5 &lt;sma&gt;*\nP&amp;L &lt;b&gt;not&lt;/b&gt; markup\n*Strategy:* sma\n*Realized P&amp;L:* -3.5',
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: '⚠️ Filled: BUY 10 AAPL @ 187.5 <sma>', emoji: true },
        },
        { type: 'section', text: { type: 'mrkdwn', text: 'P&amp;L &lt;b&gt;not&lt;/b&gt; markup' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Strategy:* sma' },
            { type: 'mrkdwn', text: '*Realized P&amp;L:* -3.5' },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'weaver · corr-1' }] },
      ],
    });
  });

  it('Slack: 404 no_service is not retried (the webhook is gone)', async () => {
    rx.script(SLACK, { status: 404, body: 'no_service' });
    expect(await deliver(ch('slack'), message, fast)).toEqual({
      channel: 'slack',
      ok: false,
      attempts: 1,
      error: 'HTTP 404: no_service',
    });
  });

  it('generic webhook: the notification as one JSON document; 5xx retried with backoff', async () => {
    rx.script('/hooks/weaver', { status: 503 }, { status: 502 }, { status: 200 });
    expect(await deliver(ch('webhook'), message, fast)).toMatchObject({ ok: true, attempts: 3 });
    expect(rx.at('/hooks/weaver')[2].body).toEqual({
      source: 'weaver',
      kind: 'fill',
      severity: 'warning',
      title: 'Filled: BUY 10 AAPL @ 187.5 <sma>',
      text: 'P&L <b>not</b> markup',
      fields: { Strategy: 'sma', 'Realized P&L': '-3.5' },
      occurredAt: '2026-01-02T15:00:00.000Z',
      correlationId: 'corr-1',
    });
  });

  it('gives up after the retries when the receiver is unreachable, naming the cause, not the URL', async () => {
    const closed = await new FakeReceiver().start();
    await closed.stop();
    const dead: ConfiguredChannel = {
      ...ch('webhook'),
      secret: new Secret(`${closed.url}/hook-token-secret`),
    };
    const r = await deliver(dead, message, { ...fast, retries: 2 });
    expect(r).toMatchObject({ ok: false, attempts: 3, error: 'ECONNREFUSED' });
  });

  it('a channel whose secret says off is not configured (faasd needs every listed secret to exist)', () => {
    writeFileSync(join(dir, 'notify-slack'), 'off\n');
    try {
      expect(channelConfig('slack')).toBeUndefined();
      expect(configuredChannels().channels.map((c) => c.channel.name)).toEqual([
        'telegram',
        'discord',
        'webhook',
      ]);
    } finally {
      writeFileSync(join(dir, 'notify-slack'), `${rx.url}${SLACK}`);
    }
  });

  it('a malformed secret is a ConfigError naming the secret and the expected form', () => {
    writeFileSync(join(dir, 'notify-telegram'), 'https://api.telegram.org/bot123/getMe');
    try {
      expect(() => channelConfig('telegram')).toThrow(ConfigError);
      expect(() => channelConfig('telegram')).toThrow(
        /notify-telegram must end in \/bot<token>\/sendMessage/,
      );
      const { channels, invalid } = configuredChannels();
      expect(channels.map((c) => c.channel.name)).not.toContain('telegram');
      expect(Object.keys(invalid)).toEqual(['notify-telegram']);
    } finally {
      writeFileSync(join(dir, 'notify-telegram'), `${rx.url}/bot${TOKEN}/sendMessage?chat_id=-1001234\n`);
    }
  });

  describe('notifyAll', () => {
    const tdb = useTestDatabase();

    it('sends to every channel, one failure blocks none, and a repeat key sends only what failed', async () => {
      const lines: string[] = [];
      setLogDestination((l) => lines.push(l));
      rx.script(DISCORD, {
        status: 400,
        body: JSON.stringify({ message: 'Invalid Form Body', code: 50035 }),
      });
      const first = await notifyAll(tdb.sql, message, { dedupeKey: 'trade:1', ...fast });
      expect(Object.fromEntries(first.map((r) => [r.channel, r.ok]))).toEqual({
        telegram: true,
        discord: false,
        slack: true,
        webhook: true,
      });
      const rows = await tdb.sql<
        { channel: string; status: string; attempts: number; error: string | null }[]
      >`
        SELECT channel, status, attempts, error FROM notifications WHERE dedupe_key = 'trade:1' ORDER BY channel`;
      expect(rows).toEqual([
        { channel: 'discord', status: 'failed', attempts: 1, error: 'HTTP 400: Invalid Form Body' },
        { channel: 'slack', status: 'sent', attempts: 1, error: null },
        { channel: 'telegram', status: 'sent', attempts: 1, error: null },
        { channel: 'webhook', status: 'sent', attempts: 1, error: null },
      ]);

      // The event comes again (redelivery): only Discord, which failed, is tried again.
      rx.reset();
      telegramOk();
      rx.script(DISCORD, { status: 204 });
      const again = await notifyAll(tdb.sql, message, { dedupeKey: 'trade:1', ...fast });
      expect(again.filter((r) => r.skipped).map((r) => r.channel)).toEqual(['telegram', 'slack', 'webhook']);
      expect(rx.received.map((r) => r.path)).toEqual([DISCORD]);
      const [d] =
        await tdb.sql`SELECT status, attempts FROM notifications WHERE dedupe_key = 'trade:1' AND channel = 'discord'`;
      expect(d).toEqual({ status: 'sent', attempts: 2 });

      // No channel URL (each holds a token) reached a log line.
      const log = lines.join('');
      expect(log).toContain('notification failed');
      for (const secret of [TOKEN, 'discord-webhook-token-secret', 'slack-token-secret'])
        expect(log).not.toContain(secret);
    });

    it('concurrent deliveries of the same event notify once per channel', async () => {
      const results = await Promise.all(
        Array.from({ length: 4 }, () => notifyAll(tdb.sql, message, { dedupeKey: 'trade:2', ...fast })),
      );
      expect(rx.at('/hooks/weaver')).toHaveLength(1);
      expect(results.flat().filter((r) => r.channel === 'webhook' && !r.skipped)).toHaveLength(1);
    });
  });
});
