/**
 * The local runner: the whole product in one process, wired from stack.yml exactly as faasd wires it —
 * functions behind gateway-shaped HTTP routes, cron schedules, topic subscriptions — on PostgreSQL
 * (DATABASE_URL or an embedded server) and a bus (NATS_URL or in-process). With no exchange keys it runs
 * the demo: the simulated exchange on an accelerated clock, a demo strategy enabled.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Bus, closeBus, MemoryBus, NatsBus, setBus } from '@weaver/shared/bus';
import { clock } from '@weaver/shared/clock';
import { type Env, parseEnv, resetEnv, secrets } from '@weaver/shared/config';
import { closeDb, migrate, setDb } from '@weaver/shared/db';
import { resetExchanges } from '@weaver/shared/exchanges';
import { type Logger, logger } from '@weaver/shared/log';
import { CronScheduler } from './cron.ts';
import { type Database, openDatabase } from './database.ts';
import { FunctionHost } from './host.ts';
import { createRunnerServer } from './server.ts';
import { loadStack, type Stack } from './stack.ts';
import { DEFAULT_DEMO_SPEED, demoClock, formatClockSpec, localApiToken, saveDemoClock } from './state.ts';
import { TopicRouter } from './topics.ts';
import { WebUi } from './web.ts';

/** The repository root (this file is cli/src/runner/runner.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Settings the runner provides itself unless the shell names them: weaver.env's are faasd's (service
 * addresses, and backtests fanned out through the OpenFaaS queue, where locally worker threads share
 * the machine's cores).
 */
const PROVIDED_BY_RUNNER = new Set([
  'NATS_URL',
  'DATABASE_URL',
  'WEAVER_BACKTEST_DISPATCH',
  'WEAVER_OPENFAAS_GATEWAY',
  'WEAVER_BACKTEST_CALLBACK_URL',
]);

export interface RunnerOptions {
  /** Folder holding stack.yml, functions/, gateway/ and web/ (default: this repository). */
  root?: string;
  /** Default <root>/stack.yml. */
  stackFile?: string;
  /** Where the runner keeps its state: embedded PostgreSQL data, API token, demo clock. Default <root>/.weaver. */
  stateDir?: string;
  /** Default PORT or 8080; 0 picks a free port. */
  port?: number;
  /** Default HOST or 127.0.0.1. */
  host?: string;
  /** Default <root>/web. */
  webDir?: string;
  log?: Logger;
  /** Demo mode: 'auto' (default) when no exchange keys are configured; false never (benchmarks). */
  demo?: 'auto' | false;
  /** Fire cron schedules (default true; a benchmark that drives the pipeline itself turns them off). */
  cron?: boolean;
  /** Build web/dist with Vite when it is missing (default true). */
  buildWeb?: boolean;
  /** Print the startup banner (the CLI does; tests don't). */
  banner?: (text: string) => void;
}

export interface DemoInfo {
  speed: number;
  clock: string;
  resumed: boolean;
}

export interface Runner {
  url: string;
  port: number;
  stack: Stack;
  env: Env;
  db: Database;
  bus: Bus;
  host: FunctionHost;
  cron: CronScheduler;
  topics: TopicRouter;
  web: WebUi;
  demo: DemoInfo | null;
  apiToken: { source: 'secret' | 'generated' | 'saved'; file?: string; value?: string };
  stop(): Promise<void>;
}

/** weaver.env (environment_file) into process.env, below what the shell already set. */
function applySharedEnvironment(stack: Stack, log: Logger): void {
  const merged: Record<string, string> = {};
  for (const f of stack.functions) {
    for (const [k, v] of Object.entries(f.sharedEnvironment)) {
      if (merged[k] !== undefined && merged[k] !== v) {
        log.warn({ key: k, fn: f.name }, 'functions disagree on a shared setting; the runner uses the first');
        continue;
      }
      merged[k] = v;
    }
  }
  for (const [k, v] of Object.entries(merged)) {
    if (PROVIDED_BY_RUNNER.has(k)) continue;
    if (process.env[k] === undefined || process.env[k] === '') process.env[k] = v;
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** The pipeline's demo setup (strategy enabled, market warmed up), when that module is present. */
async function ensureDemoData(root: string, db: Database, log: Logger): Promise<void> {
  const file = join(root, 'shared', 'src', 'demo', 'index.ts');
  if (!existsSync(file)) {
    log.warn('shared/src/demo is missing: demo data not seeded');
    return;
  }
  const mod = (await import(pathToFileURL(file).href)) as {
    ensureDemo?: (sql: Database['sql'], opts: Record<string, unknown>) => Promise<unknown>;
  };
  if (typeof mod.ensureDemo !== 'function') {
    log.warn('shared/src/demo has no ensureDemo: demo data not seeded');
    return;
  }
  const result = await mod.ensureDemo(db.sql, { now: clock().now() });
  log.info({ demo: result }, 'demo ready');
}

export async function startRunner(options: RunnerOptions = {}): Promise<Runner> {
  const root = resolve(options.root ?? PROJECT_ROOT);
  const stateDir = resolve(options.stateDir ?? join(root, '.weaver'));
  const log = (options.log ?? logger()).child({ component: 'runner' });

  const stack = loadStack(options.stackFile ?? join(root, 'stack.yml'));
  applySharedEnvironment(stack, log);

  // Demo mode: nothing to trade with but the simulated exchange, on a clock that replays the past fast.
  const s = secrets();
  let demo: DemoInfo | null = null;
  if (options.demo !== false && (!s.alpacaKeyId || !s.alpacaSecretKey)) {
    process.env.WEAVER_EXCHANGE = 'sim';
    const speed = Number(process.env.WEAVER_DEMO_SPEED || DEFAULT_DEMO_SPEED);
    if (!(speed > 0))
      throw new Error(`WEAVER_DEMO_SPEED must be a number > 0, got "${process.env.WEAVER_DEMO_SPEED}"`);
    if (!process.env.WEAVER_CLOCK) {
      const spec = demoClock(stateDir, speed);
      process.env.WEAVER_CLOCK = formatClockSpec(spec);
      demo = { speed, clock: process.env.WEAVER_CLOCK, resumed: spec.resumed };
    } else {
      demo = { speed, clock: process.env.WEAVER_CLOCK, resumed: false };
    }
  }

  let apiToken: Runner['apiToken'] = { source: 'secret' };
  if (!s.apiToken) {
    const t = localApiToken(stateDir);
    process.env.WEAVER_API_TOKEN = t.token;
    apiToken = { source: t.created ? 'generated' : 'saved', file: t.file, value: t.token };
  }

  resetEnv();
  const env = parseEnv();

  const db = await openDatabase({
    url: env.DATABASE_URL,
    stateDir,
    // One process hosts every function: give it the pool several function containers would have.
    poolMax: Math.max(env.DATABASE_POOL_MAX, 10),
  });
  const cleanup: (() => Promise<unknown>)[] = [() => db.close()];
  const undo = async (): Promise<void> => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  };
  try {
    const applied = await migrate(db.sql);
    if (applied.length) log.info({ applied }, 'migrations applied');
    process.env.DATABASE_URL = db.url;
    resetEnv();
    setDb(db.sql);

    const bus: Bus = env.NATS_URL
      ? await NatsBus.connect({
          url: env.NATS_URL,
          prefix: env.WEAVER_SUBJECT_PREFIX,
          stream: env.WEAVER_STREAM,
          name: 'weaver-runner',
        })
      : new MemoryBus(env.WEAVER_SUBJECT_PREFIX);
    cleanup.push(() => bus.close());
    setBus(bus);

    if (demo) await ensureDemoData(root, db, log);

    const host = new FunctionHost(stack, log);
    await host.load();
    for (const u of host.unavailable())
      log.error({ fn: u.name, err: u.error }, 'function could not be loaded');

    const web = new WebUi(resolve(options.webDir ?? join(root, 'web')), log);
    const server = createRunnerServer(host, web, log);
    const port = await listen(
      server,
      options.port ?? Number(process.env.PORT || 8080),
      options.host ?? process.env.HOST ?? '127.0.0.1',
    );
    cleanup.push(() => closeServer(server));

    const cron = new CronScheduler(host, log);
    const topics = new TopicRouter(host, bus, log);
    topics.start();
    if (options.cron !== false) cron.start();
    if (options.buildWeb !== false) web.ensureBuilt();

    const clockSaver = demo
      ? setInterval(() => saveDemoClock(stateDir, clock().now(), demo.speed), 5000).unref()
      : undefined;

    const url = `http://localhost:${port}`;
    let stopping: Promise<void> | undefined;
    const runner: Runner = {
      url,
      port,
      stack,
      env,
      db,
      bus,
      host,
      cron,
      topics,
      web,
      demo,
      apiToken,
      stop() {
        stopping ??= (async () => {
          cron.stop();
          topics.stop();
          web.stop();
          // Open event streams end first, or the server would wait on them.
          await host.closeModules();
          const serverClosed = closeServer(server);
          const left = await host.drain(15_000);
          if (left) log.warn({ left }, 'stopped with invocations still running');
          if (clockSaver) clearInterval(clockSaver);
          if (demo) saveDemoClock(stateDir, clock().now(), demo.speed);
          await serverClosed;
          // Adapters the functions opened (the sim venue keeps its own small pool).
          await resetExchanges().catch((e) =>
            log.warn({ err: (e as Error).message }, 'exchange did not close'),
          );
          await closeBus().catch(() => {});
          await closeDb().catch(() => {});
          await db
            .close()
            .catch((e) => log.warn({ err: (e as Error).message }, 'database did not stop cleanly'));
        })();
        return stopping;
      },
    };
    options.banner?.(bannerOf(runner, stateDir));
    return runner;
  } catch (e) {
    await undo();
    throw e;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen((server.address() as { port: number }).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    if (!server.listening) return done();
    server.close(() => done());
    server.closeIdleConnections();
  });
}

function bannerOf(r: Runner, stateDir: string): string {
  const rel = (p: string) => {
    const r = relative(process.cwd(), p);
    return r && !r.startsWith('..') ? r : p;
  };
  const lines = [``, `  Weaver is running at ${r.url}`, ``];
  lines.push(
    `  database   ${r.db.embedded ? `embedded PostgreSQL (data in ${rel(join(stateDir, 'pg'))})` : redactUrl(r.db.url)}`,
  );
  lines.push(
    `  bus        ${r.env.NATS_URL ? `NATS ${r.env.NATS_URL} (stream ${r.env.WEAVER_STREAM}, subjects ${r.env.WEAVER_SUBJECT_PREFIX}.>)` : 'in-process (set NATS_URL to use NATS)'}`,
  );
  if (r.demo) {
    lines.push(
      `  exchange   sim — demo mode (no Alpaca keys): simulated market at ${r.demo.speed}x, clock at ${new Date(clock().now()).toISOString()}${r.demo.resumed ? ' (resumed)' : ''}`,
    );
  } else {
    lines.push(
      `  exchange   ${r.env.WEAVER_EXCHANGE}${r.env.WEAVER_LIVE_TRADING ? ' — LIVE TRADING' : ' (paper)'}`,
    );
  }
  lines.push('  functions');
  for (const f of r.stack.functions) {
    const t = f.trigger;
    const how =
      t.kind === 'cron'
        ? `cron "${t.schedule}"`
        : t.kind === 'topic'
          ? `topic ${t.subjects.join(', ')}`
          : 'http';
    const broken = r.host.unavailable().find((u) => u.name === f.name);
    const at = f.name === 'gateway' ? `${r.url}/api` : `${r.url}/function/${f.name}`;
    lines.push(`    ${f.name.padEnd(17)} ${how.padEnd(34)} ${broken ? `UNAVAILABLE: ${broken.error}` : at}`);
  }
  if (r.apiToken.source === 'secret')
    lines.push('', '  API token  from the weaver-api-token secret / WEAVER_API_TOKEN');
  else {
    lines.push(
      '',
      `  API token  ${r.apiToken.value}`,
      `             (${r.apiToken.source === 'generated' ? 'new, ' : ''}kept in ${rel(r.apiToken.file ?? '')}; paste it into the web UI to sign in)`,
    );
  }
  lines.push('', '  Ctrl-C stops everything.', '');
  return lines.join('\n');
}
