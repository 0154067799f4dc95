/**
 * Every function of stack.yml, bundled by `weaver build` and started exactly as the official node22 image
 * starts it (an Express 5 app requiring ./function/handler), answers a real request and a validation
 * error over HTTP, against real PostgreSQL and NATS. No Docker engine runs here; this is what stands in
 * for `faas-cli build` in CI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_DIR, upsertBars, upsertStrategy } from '@weaver/shared/db';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeReceiver } from '../../shared/test/notify/fake-receiver.ts';
import {
  type BundleResult,
  bundleFunction,
  INSTALLED_AT_IMAGE_BUILD,
  projectVersion,
} from '../src/bundle/bundle.ts';
import { PROJECT_ROOT } from '../src/runner/runner.ts';
import { loadStack, type StackFunction } from '../src/runner/stack.ts';
import { type Host, startHost } from './bundles/host.ts';

interface World {
  sql: Sql;
  receiver: FakeReceiver;
  prefix: string;
  apiToken: string;
  call(fn: string, body: unknown): Promise<Answer>;
}

interface Answer {
  status: number;
  contentType: string | null;
  body: unknown;
}

interface Request {
  body: unknown;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  check(a: Answer, w: World): Promise<void>;
}

interface Case {
  /** A request the function must accept (200), and what must then be true. */
  request(w: World): Promise<Request>;
  /** A request it must refuse with a 4xx naming `field`. */
  invalid: { body: unknown; field: string; status?: number; path?: string };
}

const T0 = Date.parse('2026-01-05T15:00:00Z');
const MIN = 60_000;
/** SMA(2) crosses over SMA(4) on the 9th bar, the newest one (a signal on an older bar is stale). */
const CLOSES = [100, 100, 100, 100, 100, 99, 98, 98, 104];
/** Every host's clock: just after the last bar closed. */
const NOW = T0 + CLOSES.length * MIN + 5000;

async function seedMarket(sql: Sql, name: string, symbol: string): Promise<void> {
  await upsertBars(
    sql,
    CLOSES.map((close, i) => {
      const open = i === 0 ? close : CLOSES[i - 1];
      return {
        symbol,
        timeframe: '1Min' as const,
        time: new Date(T0 + i * MIN).toISOString(),
        open,
        high: Math.max(open, close) + 0.5,
        low: Math.min(open, close) - 0.5,
        close,
        volume: 10_000,
      };
    }),
  );
  await upsertStrategy(sql, {
    name,
    module: 'sma-crossover',
    params: { fast: 2, slow: 4 },
    enabled: true,
    symbols: [symbol],
    timeframe: '1Min',
    exchange: 'sim',
    sizing: { type: 'fixed_qty', qty: '10' },
    allowShort: false,
  } as never);
}

/** A BUY signal on the crossover bar, as generate-signals would have stored it. */
async function signalFor(sql: Sql, strategy: string, symbol: string): Promise<number> {
  const [s] = await sql<{ id: number }[]>`
    INSERT INTO signals (strategy, symbol, timeframe, bar_time, side, price)
    VALUES (${strategy}, ${symbol}, '1Min', ${new Date(T0 + 8 * MIN)}, 'buy', 104) RETURNING id`;
  return s.id;
}

const stack = loadStack(join(PROJECT_ROOT, 'stack.yml'));
const API_TOKEN = 'bundle-test-api-token-0123456789';

/** One entry per function of stack.yml: a function without one fails the suite. */
const CASES: Record<string, Case> = {
  'fetch-bars': {
    async request() {
      return {
        body: {},
        async check(a) {
          expect(a.body).toBeTypeOf('object');
        },
      };
    },
    invalid: { body: { timeframe: '7Min' }, field: 'timeframe' },
  },
  'generate-signals': {
    async request(w) {
      await seedMarket(w.sql, 'bundle-gs', 'GSIG');
      return {
        body: { strategies: ['bundle-gs'] },
        async check(_a, w) {
          const rows = await w.sql`SELECT side FROM signals WHERE strategy = 'bundle-gs'`;
          expect(rows.map((r) => r.side)).toContain('buy');
        },
      };
    },
    invalid: { body: { count: -1 }, field: 'count' },
  },
  'place-order': {
    async request(w) {
      await seedMarket(w.sql, 'bundle-po', 'PORD');
      const id = await signalFor(w.sql, 'bundle-po', 'PORD');
      return {
        body: { signalIds: [id] },
        async check(_a, w) {
          const orders = await w.sql`SELECT client_order_id, status FROM orders WHERE signal_id = ${id}`;
          expect(orders).toHaveLength(1);
          // Again: the same signal never becomes a second order.
          expect((await w.call('place-order', { signalIds: [id] })).status).toBe(200);
          expect(await w.sql`SELECT 1 FROM orders WHERE signal_id = ${id}`).toHaveLength(1);
        },
      };
    },
    invalid: { body: { signalIds: [] }, field: 'signalIds' },
  },
  'record-trade': {
    async request(w) {
      await seedMarket(w.sql, 'bundle-rt', 'RTRD');
      const id = await signalFor(w.sql, 'bundle-rt', 'RTRD');
      expect((await w.call('place-order', { signalIds: [id] })).status).toBe(200);
      const [o] = await w.sql<{ id: number }[]>`SELECT id FROM orders WHERE signal_id = ${id}`;
      return {
        body: { orderIds: [o.id] },
        async check(_a, w) {
          const [order] = await w.sql`SELECT status, filled_qty FROM orders WHERE id = ${o.id}`;
          const trades = await w.sql`SELECT qty FROM trades WHERE order_id = ${o.id}`;
          // Booked exactly as far as the exchange filled it.
          expect(trades.reduce((n, t) => n + Number(t.qty), 0)).toBe(Number(order.filled_qty));
        },
      };
    },
    invalid: { body: {}, field: 'orderIds' },
  },
  'sync-orders': {
    async request() {
      return {
        body: {},
        async check(a) {
          expect(a.body).toBeTypeOf('object');
        },
      };
    },
    invalid: { body: { limit: 0 }, field: 'limit' },
  },
  reconcile: {
    async request() {
      return {
        body: { snapshot: false },
        async check(a) {
          expect(a.body).toBeTypeOf('object');
        },
      };
    },
    invalid: { body: { limit: 0 }, field: 'limit' },
  },
  'run-backtest': {
    async request(w) {
      await seedMarket(w.sql, 'bundle-bt', 'BTST');
      return {
        body: {
          strategy: 'sma-crossover',
          symbols: ['BTST'],
          timeframe: '1Min',
          params: { fast: 2, slow: 4 },
        },
        async check(a, w) {
          const id = (a.body as { id: number }).id;
          const [row] = await w.sql`SELECT status FROM backtests WHERE id = ${id}`;
          expect(row.status).toBe('completed');
        },
      };
    },
    invalid: { body: { strategy: 'sma-crossover', symbols: [] }, field: 'symbols' },
  },
  gateway: {
    async request(w) {
      return {
        body: undefined,
        method: 'GET',
        path: '/metrics',
        headers: { authorization: `Bearer ${w.apiToken}` },
        async check(a) {
          expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
          expect(String(a.body)).toContain('weaver_metrics_collector_up{collector="orders"} 1');
        },
      };
    },
    invalid: { body: { token: 42 }, field: 'token', path: '/api/session' },
  },
  notify: {
    async request() {
      const body = {
        id: 'bundle-test-fill-1',
        type: 'trades.recorded',
        occurredAt: new Date().toISOString(),
        correlationId: 'bundle-corr',
        payload: {
          trades: [
            { id: 1, strategy: 'sma', symbol: 'AAPL', side: 'buy', qty: '1', price: '10', realizedPnl: '0' },
          ],
        },
      };
      return {
        body,
        async check(a, w) {
          expect(a.body).toMatchObject({ channels: ['webhook'] });
          expect(w.receiver.at('/hook').map((r) => r.body)).toContainEqual(
            expect.objectContaining({
              kind: 'fill',
              title: 'Filled: BUY 1 AAPL @ 10',
              correlationId: 'bundle-corr',
            }),
          );
        },
      };
    },
    invalid: { body: { kind: 'fill' }, field: 'title' },
  },
  'daily-summary': {
    async request() {
      return {
        body: { date: '2026-04-02' },
        async check(a, w) {
          expect(a.body).toMatchObject({ summary: { date: '2026-04-02', trades: 0 } });
          expect(w.receiver.at('/hook').map((r) => (r.body as { kind: string }).kind)).toContain(
            'daily_summary',
          );
        },
      };
    },
    invalid: { body: { date: 'yesterday' }, field: 'date' },
  },
};

async function call(
  host: Host,
  body: unknown,
  method = 'POST',
  path = '/',
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${host.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'GET' ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body: parsed };
}

describe.skipIf(!natsUrl())('bundles, started as the node22 template starts them', () => {
  const tdb = useTestDatabase();
  const work = mkdtempSync(join(tmpdir(), 'weaver-bundles-'));
  const receiver = new FakeReceiver();
  const hosts = new Map<string, Host>();
  const built = new Map<string, BundleResult>();
  // A function that fails to bundle or start fails its own tests, not the others'.
  const broken = new Map<string, string>();
  let nats: Awaited<ReturnType<typeof createTestNatsBus>>;
  let world: World;

  beforeAll(async () => {
    await receiver.start();
    nats = await createTestNatsBus();
    world = {
      sql: tdb.sql,
      receiver,
      prefix: nats.prefix,
      apiToken: API_TOKEN,
      call: (fn, body) => {
        const h = hosts.get(fn);
        if (!h) throw new Error(`${fn} is not running`);
        return call(h, body);
      },
    };
    const secrets = join(work, 'secrets');
    execFileSync('mkdir', ['-p', secrets]);
    writeFileSync(join(secrets, 'notify-webhook'), `${receiver.url}/hook\n`);
    const version = projectVersion(PROJECT_ROOT);
    for (const f of stack.functions) {
      try {
        const r = await bundleFunction(
          { name: f.name, source: f.source, outDir: join(work, 'build', f.name) },
          { root: PROJECT_ROOT, migrationsDir: MIGRATIONS_DIR, version },
        );
        built.set(f.name, r);
      } catch (e) {
        broken.set(f.name, (e as Error).message);
      }
    }
    const started = await Promise.allSettled(
      stack.functions
        .filter((f) => built.has(f.name))
        .map((f: StackFunction) =>
          startHost({
            name: f.name,
            bundleDir: join(work, 'build', f.name),
            workDir: join(work, 'hosts'),
            env: {
              ...f.environment,
              DATABASE_URL: tdb.url,
              NATS_URL: natsUrl()!,
              WEAVER_SUBJECT_PREFIX: nats.prefix,
              WEAVER_STREAM: nats.stream,
              WEAVER_SECRETS_DIR: secrets,
              WEAVER_EXCHANGE: 'sim',
              WEAVER_CLOCK: `${NOW}@${Date.now()}x1`,
              WEAVER_API_TOKEN: API_TOKEN,
              LOG_LEVEL: 'warn',
            },
          }),
        ),
    );
    for (const r of started) {
      if (r.status === 'fulfilled') hosts.set(r.value.name, r.value);
      else broken.set(String((r.reason as Error).message.split(' ')[0]), (r.reason as Error).message);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...hosts.values()].map((h) => h.stop()));
    await receiver.stop();
    await nats?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('covers every function of stack.yml', () => {
    expect(Object.keys(CASES).sort()).toEqual(stack.functions.map((f) => f.name).sort());
  });

  it('writes handler.js, migrations and a package.json whose npm test passes without services', () => {
    for (const f of stack.functions.filter((x) => built.has(x.name))) {
      const dir = join(work, 'build', f.name);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      expect(pkg).toMatchObject({ main: 'handler.js', scripts: { test: 'node smoke-test.js' } });
      // Only the on-demand heavyweights the template's npm i installs, pinned; everything else is inside.
      for (const [dep, version] of Object.entries(pkg.dependencies)) {
        expect(INSTALLED_AT_IMAGE_BUILD).toContain(dep);
        expect(version).toMatch(/^\d+\.\d+\.\d+/);
      }
      expect(pkg.type).toBeUndefined();
      expect(readFileSync(join(dir, 'migrations', '0001_core.sql'), 'utf8')).toContain('CREATE TABLE');
      // As at image build: npm test in the function folder, with no database, bus or secrets.
      const out = execFileSync('npm', ['test', '--silent'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '', HOME: work },
        encoding: 'utf8',
      });
      expect(out).toContain(`weaver-${f.name}: bundle loads and answers 4`);
      expect(built.get(f.name)!.bytes).toBeGreaterThan(10_000);
    }
    expect(Object.fromEntries(broken)).toEqual({});
  }, 120_000);

  it('lists under secrets: every secret its bundled code reads, and no other', () => {
    // Which code reads which secret (readSecret in each module).
    // Which modules read which secret, found in the source: readSecret('<name>') literally, a property of
    // config's secrets(), or a notification channel's secret (notify/channels.ts names them).
    const SECRETS_OF: Record<string, string[]> = {
      alpacaKeyId: ['alpaca-key-id'],
      alpacaSecretKey: ['alpaca-secret-key'],
      apiToken: ['weaver-api-token'],
    };
    const NOTIFY = [
      ...readFileSync(join(PROJECT_ROOT, 'shared/src/notify/channels.ts'), 'utf8').matchAll(
        /secret: '([a-z-]+)'/g,
      ),
    ].map((m) => m[1]);
    expect(NOTIFY).toEqual(['notify-telegram', 'notify-discord', 'notify-slack', 'notify-webhook']);
    const sources = (dir: string): string[] =>
      readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((x) => x.endsWith('.ts') && !x.endsWith('.test.ts') && !x.startsWith('testing'))
        .map((x) => `${dir}/${x}`);
    const READERS: [string, string[]][] = [];
    for (const file of [...sources('shared/src'), ...sources('gateway/src')]) {
      const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
      const names = [...text.matchAll(/readSecret\('([a-z-]+)'/g)].map((m) => m[1]);
      if (/secrets\(\)/.test(text)) {
        for (const [prop, n] of Object.entries(SECRETS_OF))
          if (text.includes(prop) && !file.endsWith('config/index.ts')) names.push(...n);
      }
      if (file === 'shared/src/notify/send.ts') names.push(...NOTIFY);
      if (names.length) READERS.push([file, names]);
    }
    const readers = (secret: string) => READERS.filter(([, n]) => n.includes(secret)).map(([f]) => f);
    expect(readers('database-url').length).toBeGreaterThan(0);
    expect(readers('alpaca-key-id').length).toBeGreaterThan(0);
    expect(readers('weaver-api-token').length).toBeGreaterThan(0);
    // What a function's own logic calls: the shared modules exporting what its handler imports.
    const callsExchange = (fn: string): boolean => {
      const handler = readFileSync(join(PROJECT_ROOT, 'functions', fn, 'handler.ts'), 'utf8');
      if (handler.includes('getExchange')) return true;
      for (const m of handler.matchAll(/import \{([^}]*)\} from '@weaver\/shared\/([a-z-]+)'/g)) {
        const names = m[1].split(',').map((n) => n.replace(/^\s*type\s+/, '').trim());
        const dir = join(PROJECT_ROOT, 'shared', 'src', m[2]);
        for (const file of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
          const text = readFileSync(join(dir, file), 'utf8');
          const exports = names.some((n) =>
            new RegExp(`export (async )?(function|const) ${n}\\b`).test(text),
          );
          if (exports && text.includes('getExchange(')) return true;
        }
      }
      return false;
    };
    expect(built.size, 'every function bundled').toBe(stack.functions.length);
    const problems: string[] = [];
    for (const f of stack.functions) {
      const b = built.get(f.name);
      if (!b) continue;
      const readable = new Set(READERS.filter(([file]) => b.inputs.includes(file)).flatMap(([, n]) => n));
      for (const n of f.secrets)
        if (!readable.has(n)) problems.push(`${f.name} mounts ${n} but its code never reads it`);
      const needed = new Set(['database-url']);
      if (f.name !== 'gateway' && callsExchange(f.name))
        for (const n of SECRETS_OF.alpacaKeyId.concat(SECRETS_OF.alpacaSecretKey)) needed.add(n);
      if (b.inputs.includes('shared/src/notify/send.ts')) for (const n of NOTIFY) needed.add(n);
      if (f.name === 'gateway') needed.add('weaver-api-token');
      for (const n of needed)
        if (!f.secrets.includes(n)) problems.push(`${f.name} reads ${n} but stack.yml does not mount it`);
    }
    expect(problems).toEqual([]);
  });

  it("honours each function's MAX_JSON_SIZE from stack.yml, as the template's body-parser does", async () => {
    const big = { signalIds: [1], padding: 'x'.repeat(300 * 1024) };
    const small = stack.functions.find((f) => f.name === 'place-order')!;
    const large = stack.functions.find((f) => f.name === 'run-backtest')!;
    expect(small.maxJsonBytes).toBe(100 * 1024);
    expect(large.maxJsonBytes).toBeGreaterThan(300 * 1024);
    // 100kb default: body-parser refuses before the handler runs.
    expect((await call(hosts.get('place-order')!, big)).status).toBe(413);
    // 1mb: the body reaches the function, which names what is wrong with it.
    const a = await call(hosts.get('run-backtest')!, { ...big, strategy: 'sma-crossover', symbols: [] });
    expect(a.status, JSON.stringify(a.body).slice(0, 300)).toBe(400);
    expect((a.body as { error: { fields: Record<string, string> } }).error.fields).toHaveProperty('symbols');
  });

  for (const f of stack.functions) {
    const c = CASES[f.name];
    if (!c) continue;

    const hostOf = (name: string): Host => {
      const h = hosts.get(name);
      if (!h) throw new Error(`${name} did not bundle or start: ${broken.get(name) ?? 'unknown'}`);
      return h;
    };

    it(`${f.name}: answers a request over HTTP`, async () => {
      const host = hostOf(f.name);
      const req = await c.request(world);
      const a = await call(host, req.body, req.method, req.path, req.headers);
      expect(a.status, `${f.name} answered ${JSON.stringify(a.body)}\n${host.output()}`).toBe(200);
      if (req.path !== '/metrics') expect(a.contentType).toMatch(/^application\/json/);
      await req.check(a, world);
    });

    it(`${f.name}: refuses bad input with a 4xx naming the field`, async () => {
      const host = hostOf(f.name);
      const a = await call(host, c.invalid.body, 'POST', c.invalid.path);
      expect(a.status, JSON.stringify(a.body)).toBe(c.invalid.status ?? 400);
      expect(a.contentType).toMatch(/^application\/json/);
      expect((a.body as { error: { fields: Record<string, string> } }).error.fields).toHaveProperty(
        c.invalid.field,
      );
    });
  }
});
