/**
 * The real product for the browser tests: `npm start` (the local runner: gateway at /api, web/dist at /,
 * functions, schedules, demo market) on a private database, a private NATS stream and a free port.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, createTestNatsBus, natsUrl } from '@weaver/shared/testing';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface Product {
  url: string;
  /** The token the runner generated and printed. */
  token: string;
  tokenFile: string;
  /** The runner's output so far (for failure messages). */
  output(): string;
  /** GET/POST the API with the token, as a script would. */
  api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

/**
 * Builds web/dist from the current sources, as `npm run build -w web` does. NODE_ENV is production:
 * vitest sets it to `test`, and Vite would then ship React's development build.
 */
export function buildWeb(): void {
  const r = spawnSync('npm', ['run', 'build', '-w', 'web'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms: number,
  log: () => string,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what} (${String(last ?? '')})\n--- runner output ---\n${log().slice(-4000)}`,
  );
}

export interface ProductOptions {
  /**
   * The database to run on (the runner migrates it and seeds the demo). Default: a private clone of the
   * test suite's migrated template, which only exists inside vitest.
   */
  database?: { url: string; drop(): Promise<void> };
  /** Run on a private NATS stream when NATS_URL is set (default), or on the runner's in-process bus. */
  nats?: boolean;
}

export async function startProduct(opts: ProductOptions = {}): Promise<Product> {
  // A private, migrated database: the runner finds nothing to migrate and seeds the demo into it.
  const db = opts.database ?? (await createTestDatabase());
  const nats = opts.nats !== false && natsUrl() ? await createTestNatsBus() : null;
  const stateDir = mkdtempSync(join(tmpdir(), 'weaver-e2e-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: db.url,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    // Demo mode: the simulated exchange on a fast clock, so the demo strategy trades within seconds.
    WEAVER_DEMO_SPEED: '60',
  };
  for (const k of ['WEAVER_API_TOKEN', 'APCA_API_KEY_ID', 'APCA_API_SECRET_KEY', 'WEAVER_CLOCK', 'NATS_URL'])
    delete env[k];
  if (nats) {
    env.NATS_URL = natsUrl() ?? undefined;
    env.WEAVER_SUBJECT_PREFIX = nats.prefix;
    env.WEAVER_STREAM = nats.stream;
  }
  let out = '';
  const child: ChildProcess = spawn(
    'npm',
    ['start', '--', '--port', String(port), '--state-dir', stateDir, '--no-web-build'],
    { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const collect = (c: Buffer) => {
    out = (out + c.toString()).slice(-200_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const output = () => out;
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      // The whole group: npm, the runner and anything it started.
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
      if (done === 'timeout') {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
    }
    await nats?.drop().catch(() => {});
    await db.drop().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      'the API to answer /api/health',
      async () => {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
        const r = await fetch(`${url}/api/health`);
        return r.ok ? true : undefined;
      },
      120_000,
      output,
    );
    const printed = await waitFor(
      'the banner with the API token',
      async () => /API token\s+(\S+)/.exec(out)?.[1],
      10_000,
      output,
    );
    const tokenFile = join(stateDir, 'api-token');
    const token = readFileSync(tokenFile, 'utf8').trim();
    if (printed !== token) throw new Error('the printed API token differs from the one in the state dir');
    const api = async <T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
      const r = await fetch(`${url}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path} → ${r.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    return { url, token, tokenFile, output, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
