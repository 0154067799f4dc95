/**
 * Every function of stack.yml, bundled by `weaver build` and started exactly as the official node22 image
 * starts it (an Express 5 app requiring ./function/handler), answers a real request and a validation
 * error over HTTP, against real PostgreSQL and NATS. No Docker engine runs here; this is what stands in
 * for `faas-cli build` in CI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_DIR, upsertBars, upsertStrategy } from '@weaver/shared/db';
import { SystemStatus } from '@weaver/shared/schemas';
import type { StrategyModule } from '@weaver/shared/strategies';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeReceiver } from '../../shared/test/notify/fake-receiver.ts';
import {
  BUNDLED_STRATEGIES,
  type BundleResult,
  bundleFunction,
  INSTALLED_AT_IMAGE_BUILD,
  LOADS_STRATEGIES,
  projectVersion,
  READS_STACK,
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

async function seedMarket(
  sql: Sql,
  name: string,
  symbol: string,
  module = 'sma-crossover',
  params: Record<string, unknown> = { fast: 2, slow: 4 },
  closes: number[] = CLOSES,
): Promise<void> {
  await upsertBars(
    sql,
    closes.map((close, i) => {
      const open = i === 0 ? close : closes[i - 1];
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
    module,
    params,
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
/** A user's strategies folder (one TypeScript strategy importing zod and Weaver's indicators). */
const USER_STRATEGIES = join(PROJECT_ROOT, 'cli', 'test', 'fixtures', 'strategies');
const USER_STRATEGY = 'close-cross-sma';

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
  'protect-positions': {
    async request() {
      return {
        body: {},
        async check(a) {
          expect(a.body).toMatchObject({ books: expect.any(Array) });
        },
      };
    },
    invalid: { body: { strategies: [] }, field: 'strategies' },
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
    // As `weaver build` passes them: stack.yml with its environment file, and the user's strategies.
    const stackFiles = [stack.file, ...new Set(stack.functions.flatMap((f) => f.environmentFiles))];
    for (const f of stack.functions) {
      try {
        const r = await bundleFunction(
          { name: f.name, source: f.source, outDir: join(work, 'build', f.name) },
          {
            root: PROJECT_ROOT,
            migrationsDir: MIGRATIONS_DIR,
            version,
            stackFiles,
            strategiesDir: USER_STRATEGIES,
          },
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
              // The path a local setup would use, which is no folder in the image: the bundle's own wins.
              WEAVER_STRATEGIES_DIR: './strategies',
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
      ccxtApiKey: ['ccxt-api-key'],
      ccxtSecret: ['ccxt-secret'],
      apiToken: ['weaver-api-token'],
    };
    const EXCHANGE_KEYS = ['alpacaKeyId', 'alpacaSecretKey', 'ccxtApiKey', 'ccxtSecret'].flatMap(
      (p) => SECRETS_OF[p],
    );
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
    expect(readers('ccxt-api-key')).toEqual(['shared/src/exchanges/ccxt/options.ts']);
    expect(readers('ccxt-secret')).toEqual(['shared/src/exchanges/ccxt/options.ts']);
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
      // Every venue family's keys: which one a function trades on is configuration, not a rebuild.
      if (f.name !== 'gateway' && callsExchange(f.name)) for (const n of EXCHANGE_KEYS) needed.add(n);
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

  it('carries stack.yml and weaver.env in the gateway, whose System view lists every schedule and topic', async () => {
    const readers = [...built.values()].filter((b) => b.inputs.includes(READS_STACK)).map((b) => b.name);
    expect(readers).toEqual(['gateway']);
    for (const b of built.values()) {
      expect(b.files, b.name).toEqual(b.name === 'gateway' ? ['stack.yml', 'weaver.env'] : []);
    }
    // Started as the template starts it: cwd /home/app, the bundle in ./function, no WEAVER_STACK_FILE.
    const gateway = hosts.get('gateway');
    if (!gateway) throw new Error(`gateway did not start: ${broken.get('gateway')}`);
    const a = await call(gateway, undefined, 'GET', '/api/system', {
      authorization: `Bearer ${API_TOKEN}`,
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const listed = new Map(SystemStatus.parse(a.body).functions.map((f) => [f.name, f]));
    for (const f of stack.functions) {
      const t = f.trigger;
      expect(listed.get(f.name), f.name).toMatchObject(
        t.kind === 'cron'
          ? { trigger: 'cron', schedule: t.schedule, topics: [] }
          : t.kind === 'topic'
            ? { trigger: 'topic', schedule: null, topics: t.subjects }
            : { trigger: 'http', schedule: null, topics: [] },
      );
    }
    expect(listed.get('fetch-bars')).toMatchObject({ trigger: 'cron', schedule: '* * * * *' });
    expect(listed.get('notify')?.topics).toContain('weaver.positions.drift');
  });

  it("compiles the user's strategies into every bundle that loads strategies by name, and no other", () => {
    const loaders = [...built.values()].filter((b) => b.inputs.includes(LOADS_STRATEGIES));
    expect(loaders.map((b) => b.name)).toEqual(
      expect.arrayContaining(['generate-signals', 'run-backtest', 'gateway']),
    );
    for (const b of built.values()) {
      const folder = join(b.outDir, BUNDLED_STRATEGIES);
      if (loaders.includes(b)) {
        expect(b.strategies, b.name).toEqual([USER_STRATEGY]);
        expect(existsSync(join(folder, `${USER_STRATEGY}.mjs`)), b.name).toBe(true);
      } else {
        expect(b.strategies, b.name).toEqual([]);
        expect(existsSync(folder), b.name).toBe(false);
      }
    }
  });

  it('generate-signals signals with the user strategy bundled into it', async () => {
    await seedMarket(world.sql, 'bundle-user', 'USIG', USER_STRATEGY, { length: 3 });
    const a = await world.call('generate-signals', { strategies: ['bundle-user'] });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const rows = await world.sql`SELECT side, bar_time FROM signals WHERE strategy = 'bundle-user'`;
    // close 104 crosses above SMA(3) = 100 on the newest bar (the one before: 98 under 98.33).
    expect(rows.map((r) => [r.side, (r.bar_time as Date).toISOString()])).toEqual([
      ['buy', new Date(T0 + 8 * MIN).toISOString()],
    ]);
  });

  it('run-backtest backtests the user strategy bundled into it, decision for decision', async () => {
    // A zigzag that crosses its average every few bars: several round trips.
    const closes = Array.from({ length: 120 }, (_, i) => 100 + 5 * Math.sin(i / 2.5) + (i % 3) * 0.1);
    await seedMarket(world.sql, 'bundle-user-bt', 'UBT', USER_STRATEGY, { length: 3 }, closes);
    const a = await world.call('run-backtest', {
      strategy: USER_STRATEGY,
      symbols: ['UBT'],
      timeframe: '1Min',
      params: { length: 3 },
      sizing: { type: 'fixed_qty', qty: 1 },
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const { id } = a.body as { id: number };
    const [row] =
      await world.sql`SELECT status, config->>'strategy' AS strategy FROM backtests WHERE id = ${id}`;
    expect(row).toEqual({ status: 'completed', strategy: USER_STRATEGY });
    // The same module, run here on the same closes: each BUY while flat enters at the next bar's open.
    const module = (await import(join(USER_STRATEGIES, `${USER_STRATEGY}.ts`))).default as StrategyModule;
    const instance = module.create({ length: 3 });
    const entries: string[] = [];
    let long = false;
    closes.forEach((close, i) => {
      const d = instance.next({ time: T0 + i * MIN, open: close, high: close, low: close, close, volume: 1 });
      if (d === 1 && !long && i + 1 < closes.length) {
        long = true;
        entries.push(new Date(T0 + (i + 1) * MIN).toISOString());
      } else if (d === -1 && long) long = false;
    });
    expect(entries.length).toBeGreaterThanOrEqual(3);
    const trades = await world.sql`
      SELECT entry_time FROM backtest_trades WHERE backtest_id = ${id} ORDER BY seq`;
    expect(trades.map((t) => (t.entry_time as Date).toISOString())).toEqual(entries);
  });

  it('the gateway lists the bundled user strategy with its parameters', async () => {
    const a = await call(hosts.get('gateway')!, undefined, 'GET', '/api/strategies/modules', {
      authorization: `Bearer ${API_TOKEN}`,
    });
    expect(a.status).toBe(200);
    const user = (a.body as { items: { name: string; source: string; error: string | null }[] }).items.find(
      (m) => m.name === USER_STRATEGY,
    );
    expect(user).toMatchObject({ source: 'user', error: null, defaults: { length: 3 } });
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
