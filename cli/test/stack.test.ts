/**
 * stack.yml is the single source of wiring: these checks hold it to what faas-cli, the connectors and
 * the code expect, since no Docker engine here can deploy it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BacktestDispatchEnv } from '@weaver/shared/backtest';
import { EnvSchema } from '@weaver/shared/config';
import { EVENT_TYPES } from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { GatewayEnvSchema } from '../../gateway/src/config.ts';
import { nextFire, realTimeAt } from '../src/runner/cron.ts';
import { CRON_TOPIC, loadStack, parseBytes, parseDuration, StackError } from '../src/runner/stack.ts';
import { REPO_ROOT } from './helpers.ts';

const stack = loadStack(join(REPO_ROOT, 'stack.yml'), {});
const raw = readFileSync(join(REPO_ROOT, 'stack.yml'), 'utf8');
const weaverEnv = parseYaml(readFileSync(join(REPO_ROOT, 'weaver.env'), 'utf8')) as {
  environment: Record<string, string>;
};

describe('stack.yml', () => {
  it('names the official node22 template and builds every function from ./build/<name> with it', () => {
    expect(stack.templates).toEqual(['node22']);
    expect(stack.gateway).toBe('http://127.0.0.1:8080');
    expect(raw).toMatch(/^version: 1\.0$/m);
    for (const f of stack.functions) {
      expect(f.lang, f.name).toBe('node22');
      expect(f.handlerDir, f.name).toBe(join(REPO_ROOT, 'build', f.name));
      expect(f.image, f.name).toBe(`ghcr.io/weaver/weaver-${f.name}:latest`);
    }
  });

  it('substitutes the image owner and tag from the environment, as faas-cli does', () => {
    const s = loadStack(join(REPO_ROOT, 'stack.yml'), { OWNER: 'alice', TAG: 'v1.2.3' });
    expect(s.functions.find((f) => f.name === 'place-order')?.image).toBe(
      'ghcr.io/alice/weaver-place-order:v1.2.3',
    );
  });

  it('lists exactly the functions in functions/ plus the gateway, each with its handler source', () => {
    const dirs = readdirSync(join(REPO_ROOT, 'functions'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(REPO_ROOT, 'functions', d.name, 'package.json')))
      .map((d) => d.name);
    expect(stack.functions.map((f) => f.name).sort()).toEqual([...dirs, 'gateway'].sort());
    expect(stack.functions.find((f) => f.name === 'gateway')?.source).toBe(
      join(REPO_ROOT, 'gateway', 'handler.ts'),
    );
  });

  it('wires the pipeline: cron for fetch-bars, sync-orders and reconcile; topics down the chain; HTTP for the rest', () => {
    const trigger = (name: string) => stack.functions.find((f) => f.name === name)?.trigger;
    expect(trigger('fetch-bars')).toEqual({ kind: 'cron', schedule: '* * * * *', async: false });
    expect(trigger('sync-orders')).toEqual({ kind: 'cron', schedule: '* * * * *', async: false });
    expect(trigger('reconcile')).toMatchObject({ kind: 'cron' });
    expect(trigger('generate-signals')).toEqual({ kind: 'topic', subjects: ['weaver.bars.fetched'] });
    expect(trigger('place-order')).toEqual({ kind: 'topic', subjects: ['weaver.signals.created'] });
    expect(trigger('record-trade')).toEqual({ kind: 'topic', subjects: ['weaver.orders.updated'] });
    expect(trigger('protect-positions')).toEqual({ kind: 'topic', subjects: ['weaver.protection.due'] });
    expect(trigger('run-backtest')).toEqual({ kind: 'http' });
    expect(trigger('gateway')).toEqual({ kind: 'http' });
  });

  it('uses annotations exactly as the connectors read them, and never both triggers on one function', () => {
    const prefix = weaverEnv.environment.WEAVER_SUBJECT_PREFIX;
    expect(prefix).toBe('weaver');
    for (const f of stack.functions) {
      const a = f.annotations;
      if (a.schedule !== undefined) expect(a.topic, f.name).toBe(CRON_TOPIC);
      if (f.trigger.kind === 'topic') {
        for (const s of f.trigger.subjects) {
          expect(s.startsWith(`${prefix}.`), s).toBe(true);
          expect(EVENT_TYPES as string[], s).toContain(s.slice(prefix.length + 1));
        }
      }
    }
  });

  it('sizes timeouts per function: the watchdog writes after exec ends, backtests get minutes', () => {
    for (const f of stack.functions) {
      const e = f.environment;
      expect(e.WEAVER_FUNCTION, f.name).toBe(f.name);
      expect(parseDuration(e.write_timeout), f.name).toBeGreaterThan(parseDuration(e.exec_timeout));
      expect(f.memory, f.name).toMatch(/^\d+(Mi|Gi)$/);
    }
    const backtest = stack.functions.find((f) => f.name === 'run-backtest');
    expect(backtest?.execTimeoutMs).toBeGreaterThanOrEqual(10 * 60_000);
    expect(backtest?.maxJsonBytes).toBeGreaterThan(100 * 1024);
  });

  it('gives every function the database secret and only secrets the code reads', () => {
    const known = new Set([
      'database-url',
      'alpaca-key-id',
      'alpaca-secret-key',
      'ccxt-api-key',
      'ccxt-secret',
      'weaver-api-token',
      'notify-telegram',
      'notify-discord',
      'notify-slack',
      'notify-webhook',
    ]);
    for (const f of stack.functions) {
      expect(f.secrets, f.name).toContain('database-url');
      for (const s of f.secrets) expect(known.has(s), `${f.name}: ${s}`).toBe(true);
    }
    expect(stack.functions.find((f) => f.name === 'gateway')?.secrets).toContain('weaver-api-token');
    expect(stack.functions.find((f) => f.name === 'place-order')?.secrets).toEqual(
      expect.arrayContaining(['alpaca-key-id', 'alpaca-secret-key', 'ccxt-api-key', 'ccxt-secret']),
    );
    // A function that may trade mounts every venue family's keys: WEAVER_EXCHANGE or a strategy's own
    // exchange picks the venue, so switching to CCXT is configuration, not a redeploy with new mounts.
    const venueKeys = ['alpaca-key-id', 'alpaca-secret-key', 'ccxt-api-key', 'ccxt-secret'];
    for (const f of stack.functions) {
      const mounted = venueKeys.filter((k) => f.secrets.includes(k));
      expect(mounted, f.name).toEqual(mounted.length ? venueKeys : []);
    }
  });

  it('README documents every setting the functions read and every secret stack.yml mounts', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const k of [...Object.keys(EnvSchema.shape), ...Object.keys(BacktestDispatchEnv.shape)])
      expect(readme, `README does not list ${k}`).toContain(`\`${k}\``);
    for (const secret of new Set(stack.functions.flatMap((f) => f.secrets)))
      expect(readme, `README does not list the secret ${secret}`).toMatch(
        new RegExp(`\`${secret}\`|${secret},`),
      );
  });

  it('keeps weaver.env to known settings and no secrets', () => {
    const keys = Object.keys(weaverEnv.environment);
    const settings = [
      ...Object.keys(EnvSchema.shape),
      ...Object.keys(GatewayEnvSchema.shape),
      ...Object.keys(BacktestDispatchEnv.shape),
    ];
    for (const k of keys) {
      expect(settings, k).toContain(k);
      expect(k).not.toMatch(/KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL/);
    }
    for (const f of stack.functions) expect(f.sharedEnvironment).toEqual(weaverEnv.environment);
  });
});

describe('stack validation', () => {
  const write = (yaml: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'weaver-stack-'));
    const file = join(dir, 'stack.yml');
    writeFileSync(file, yaml);
    return file;
  };
  const fn = (extra: string) => `version: 1.0
provider: { name: openfaas, gateway: http://127.0.0.1:8080 }
functions:
  f:
    lang: node22
    handler: ./build/f
    image: f:latest
${extra}`;

  it.each([
    [
      'a schedule without topic: cron-function',
      '    annotations: { schedule: "* * * * *" }',
      'cron-connector ignores it',
    ],
    [
      'a schedule beside a topic',
      '    annotations: { topic: weaver.bars.fetched, schedule: "* * * * *" }',
      'cron-connector ignores it',
    ],
    [
      'a bad cron expression',
      '    annotations: { topic: cron-function, schedule: "61 * * * *" }',
      'annotations.schedule',
    ],
    [
      'a six-field cron expression',
      '    annotations: { topic: cron-function, schedule: "0 * * * * *" }',
      'five fields',
    ],
    ['an application setting per function', '    environment: { LOG_LEVEL: debug }', 'weaver.env'],
    ['a missing environment file', '    environment_file: [nope.env]', 'does not exist'],
    ['a bad timeout', '    environment: { exec_timeout: soon }', 'exec_timeout'],
  ])('rejects %s, naming it', (_, extra, message) => {
    expect(() => loadStack(write(fn(extra)))).toThrow(StackError);
    expect(() => loadStack(write(fn(extra)))).toThrow(message);
  });

  it('rejects a function name that is not a DNS label', () => {
    expect(() => loadStack(write(fn('').replace('  f:', '  Bad_Name:')))).toThrow(/DNS label/);
  });

  it('reads Go durations and body-parser sizes', () => {
    expect(parseDuration('15m5s')).toBe(905_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseBytes('100kb')).toBe(102_400);
    expect(parseBytes('1mb')).toBe(1_048_576);
    expect(parseBytes('512')).toBe(512);
  });
});

describe('schedules on the process clock', () => {
  it('finds the next minute in UTC and maps simulated time to real time under an accelerated clock', () => {
    const t = Date.UTC(2026, 0, 5, 10, 0, 30);
    expect(nextFire('* * * * *', t)).toBe(Date.UTC(2026, 0, 5, 10, 1, 0));
    expect(nextFire('*/5 * * * *', t)).toBe(Date.UTC(2026, 0, 5, 10, 5, 0));
    expect(nextFire('@every 90s', t)).toBe(t + 90_000);
    const realStart = Date.UTC(2026, 0, 8);
    const epoch = realStart - 3 * 86_400_000;
    const spec = `${epoch}@${realStart}x30`;
    // one simulated minute after the start is two real seconds later at 30x
    expect(realTimeAt(epoch + 60_000, spec)).toBe(realStart + 2000);
    expect(realTimeAt(realStart + 3_600_000, spec)).toBe(realStart + (3 * 86_400_000 + 3_600_000) / 30);
    // the clock never runs ahead of real time: once caught up, a simulated instant waits for the real one
    const recent = `${realStart - 60_000}@${realStart}x30`;
    expect(realTimeAt(realStart + 3_600_000, recent)).toBe(realStart + 3_600_000);
    expect(realTimeAt(t, undefined)).toBe(t);
  });
});
