/**
 * The functions and their triggers as stack.yml declares them, for the System view, read by the one
 * stack.yml parser (@weaver/shared/stack) the local runner and `weaver build` use too.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadStack } from '@weaver/shared/stack';

export interface FunctionWiring {
  name: string;
  trigger: 'cron' | 'topic' | 'http';
  schedule: string | null;
  topics: string[];
}

/**
 * WEAVER_STACK_FILE, else stack.yml beside the bundle (`weaver build` copies it there; the node22 image
 * runs in /home/app with the bundle in ./function) or up from the working directory (the repository).
 */
export function findStackFile(configured?: string): string | null {
  if (configured) return existsSync(configured) ? resolve(configured) : null;
  const candidates = [join(process.cwd(), 'function', 'stack.yml')];
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    candidates.push(join(dir, 'stack.yml'));
    if (dirname(dir) === dir) break;
  }
  return candidates.find((f) => existsSync(f)) ?? null;
}

let cache: { file: string; mtimeMs: number; wiring: FunctionWiring[] } | undefined;

/** Each function's trigger (cached until the file changes); throws StackError naming the file and problem. */
export function readWiring(file: string): FunctionWiring[] {
  const mtimeMs = statSync(file).mtimeMs;
  if (cache && cache.file === file && cache.mtimeMs === mtimeMs) return cache.wiring;
  const wiring = loadStack(file).functions.map((f): FunctionWiring => {
    const t = f.trigger;
    if (t.kind === 'cron') return { name: f.name, trigger: 'cron', schedule: t.schedule, topics: [] };
    if (t.kind === 'topic') return { name: f.name, trigger: 'topic', schedule: null, topics: t.subjects };
    return { name: f.name, trigger: 'http', schedule: null, topics: [] };
  });
  cache = { file, mtimeMs, wiring };
  return wiring;
}
