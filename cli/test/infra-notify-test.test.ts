import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeReceiver } from '../../shared/test/notify/fake-receiver.ts';
import { PROJECT_ROOT } from '../src/runner/runner.ts';

const WEAVER = join(PROJECT_ROOT, 'cli', 'bin', 'weaver.js');

function weaver(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    // Asynchronous: the fake receiver answers from this process while the command runs.
    const child = spawn(process.execPath, [WEAVER, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('weaver notify-test', () => {
  const rx = new FakeReceiver();
  let dir: string;
  beforeAll(async () => {
    await rx.start();
    dir = mkdtempSync(join(tmpdir(), 'weaver-notify-test-'));
    writeFileSync(join(dir, 'notify-telegram'), `${rx.url}/bot42:token-abc/sendMessage?chat_id=99\n`);
    writeFileSync(join(dir, 'notify-slack'), `${rx.url}/services/T/B/slack-secret`);
  });
  afterAll(async () => {
    await rx.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a test message through the channel configured by its secret file', async () => {
    rx.script('/bot42:token-abc/sendMessage', { status: 200, body: '{"ok":true,"result":{"message_id":1}}' });
    const r = await weaver(['notify-test', 'telegram'], { WEAVER_SECRETS_DIR: dir });
    expect(r.out).toContain('sent a test message to telegram (1 attempt)');
    expect(r.code).toBe(0);
    const [req] = rx.at('/bot42:token-abc/sendMessage');
    expect(req.body).toMatchObject({ chat_id: '99', parse_mode: 'HTML' });
    expect((req.body as { text: string }).text).toContain('<b>Weaver test message</b>');
  });

  it('reads the environment variable when no secret file exists', async () => {
    const r = await weaver(['notify-test', 'webhook'], {
      WEAVER_SECRETS_DIR: dir,
      WEAVER_NOTIFY_WEBHOOK: `${rx.url}/generic`,
    });
    expect(r.code).toBe(0);
    expect(rx.at('/generic')[0].body).toMatchObject({
      source: 'weaver',
      kind: 'test',
      title: 'Weaver test message',
    });
  });

  it('fails naming the service answer, the missing secret, or the unknown channel', async () => {
    rx.script('/services/T/B/slack-secret', { status: 404, body: 'no_service' });
    const refused = await weaver(['notify-test', 'slack'], { WEAVER_SECRETS_DIR: dir });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('slack refused it after 1 attempt(s): HTTP 404: no_service');
    expect(refused.out).not.toContain('slack-secret');

    const missing = await weaver(['notify-test', 'discord'], { WEAVER_SECRETS_DIR: dir });
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(
      'discord is not configured: create the secret notify-discord or set WEAVER_NOTIFY_DISCORD',
    );

    const unknown = await weaver(['notify-test', 'pager'], { WEAVER_SECRETS_DIR: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('unknown channel "pager"');
  });
});
