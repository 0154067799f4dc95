/**
 * Lays a bundle out the way the node22 image does (/home/app/index.js, node_modules with only express and
 * body-parser, the bundle in ./function) and runs it with node: the handler gets no other node_modules,
 * no tsx, and only the environment given, so a bundle that works here works in the image.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
export const TEMPLATE_INDEX = join(here, 'node22-index.cjs');

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface Host {
  name: string;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export async function startHost(opts: {
  name: string;
  bundleDir: string;
  workDir: string;
  env: Record<string, string>;
}): Promise<Host> {
  const home = join(opts.workDir, opts.name);
  mkdirSync(join(home, 'node_modules'), { recursive: true });
  cpSync(TEMPLATE_INDEX, join(home, 'index.js'));
  cpSync(opts.bundleDir, join(home, 'function'), { recursive: true });
  // The template's own package.json installs exactly these two.
  for (const dep of ['express', 'body-parser']) {
    symlinkSync(join(repoRoot, 'node_modules', dep), join(home, 'node_modules', dep), 'dir');
  }
  const port = await freePort();
  let out = '';
  const child: ChildProcess = spawn(process.execPath, ['index.js'], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', http_port: String(port), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const deadline = Date.now() + 20_000;
  while (!out.includes('listening on port')) {
    if (child.exitCode !== null) throw new Error(`${opts.name} exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`${opts.name} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: opts.name,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
