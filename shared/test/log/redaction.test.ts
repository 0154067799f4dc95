import { describe, expect, it } from 'vitest';
import { readSecret, Secret } from '../../src/config/index.ts';
import { logger, setLogDestination } from '../../src/log/index.ts';

describe('structured logs', () => {
  it('are JSON lines with level, function name and correlation id', () => {
    const lines: string[] = [];
    setLogDestination((l) => lines.push(l));
    logger()
      .child({ fn: 'place-order', correlationId: 'corr-42' })
      .warn({ symbol: 'AAPL' }, 'risk limit reached');
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({
      level: 'warn',
      service: 'weaver',
      fn: 'place-order',
      correlationId: 'corr-42',
      symbol: 'AAPL',
      msg: 'risk limit reached',
    });
    expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
  });

  it('never write a secret: by key, as a Secret object, or as a value that slipped into a message', () => {
    const lines: string[] = [];
    setLogDestination((l) => lines.push(l), 'trace');
    process.env.WEAVER_TEST_SECRET_ENV = 'sk-live-0123456789abcdef';
    const fromEnv = readSecret('does-not-exist', 'WEAVER_TEST_SECRET_ENV')!;
    const apiToken = new Secret('tok-very-secret-987654');
    const log = logger().child({ fn: 'gateway', correlationId: 'c' });
    log.info(
      { password: 'pg-password-1', token: 'bearer-abc-123', headers: { authorization: 'Basic xyz-999' } },
      'keys',
    );
    log.info({ alpaca: { apiKey: 'AKXXXXXXXXXXXX', secret: 'alpaca-secret-55' } }, 'nested');
    log.info({ apiToken, fromEnv }, 'secret objects');
    log.error(`request failed for https://x.test/?key=${fromEnv.reveal()} with ${apiToken.reveal()}`);
    log.error({ err: `url was https://user:${apiToken.reveal()}@host` }, 'error field');
    const all = lines.join('');
    for (const leaked of [
      'pg-password-1',
      'bearer-abc-123',
      'xyz-999',
      'AKXXXXXXXXXXXX',
      'alpaca-secret-55',
      'sk-live-0123456789abcdef',
      'tok-very-secret-987654',
    ]) {
      expect(all, `${leaked} leaked`).not.toContain(leaked);
    }
    expect(lines).toHaveLength(5);
    expect(all.match(/\[redacted\]/g)!.length).toBeGreaterThanOrEqual(9);
    expect(`${apiToken}`).toBe('[redacted]');
    expect(JSON.stringify({ apiToken })).toBe('{"apiToken":"[redacted]"}');
    delete process.env.WEAVER_TEST_SECRET_ENV;
  });
});
