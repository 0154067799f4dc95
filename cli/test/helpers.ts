import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setLogDestination } from '@weaver/shared/log';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_ROOT = join(REPO_ROOT, 'cli', 'test', 'fixtures', 'project');

/** A scratch folder the embedded PostgreSQL (running as `postgres` when we are root) can enter. */
export function tempStateDir(tag: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `weaver-${tag}-`));
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Captures the JSON log lines written during a test. */
export function captureLogs(): string[] {
  const lines: string[] = [];
  setLogDestination((l) => lines.push(l), 'debug');
  return lines;
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if ((e as Error).name === 'Fatal') throw e;
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Env for a child `weaver start` with none of this process's service settings. */
export function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'NODE_OPTIONS'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, ...extra };
}

export interface StartedProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code after SIGTERM (or SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
}

/** Runs `weaver start` the way `npm start` does, and waits until /healthz answers. */
export async function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<StartedProcess> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'cli', 'bin', 'weaver.js'), 'start', '--port', String(port), ...args],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const started: StartedProcess = {
    child,
    output: () => out,
    async stop(ms = 30_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  try {
    await waitFor(
      'the runner to answer /healthz',
      async () => {
        if (child.exitCode !== null) {
          throw Object.assign(new Error(`weaver start exited with ${child.exitCode}`), { name: 'Fatal' });
        }
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        return r.ok;
      },
      120_000,
    );
  } catch (e) {
    await started.stop(5000);
    throw new Error(`${(e as Error).message}\n--- output ---\n${out}`);
  }
  return started;
}
