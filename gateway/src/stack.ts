/**
 * The functions and their triggers as stack.yml declares them, for the System view. Read the way the
 * connectors read it: `topic: cron-function` + `schedule` is a cron function, any other `topic` lists
 * subjects (comma-separated), none is HTTP only.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export interface FunctionWiring {
  name: string;
  trigger: 'cron' | 'topic' | 'http';
  schedule: string | null;
  topics: string[];
}

const StackFile = z.object({
  functions: z.record(
    z.string(),
    z.looseObject({
      annotations: z
        .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
        .optional(),
    }),
  ),
});

/** WEAVER_STACK_FILE, else stack.yml next to the bundle (the template's cwd/function) or up from the cwd. */
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

/** Parses stack.yml (cached until the file changes); throws naming the file and the problem. */
export function readWiring(file: string): FunctionWiring[] {
  const mtimeMs = statSync(file).mtimeMs;
  if (cache && cache.file === file && cache.mtimeMs === mtimeMs) return cache.wiring;
  const parsed = StackFile.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  }
  const wiring = Object.entries(parsed.data.functions).map(([name, f]): FunctionWiring => {
    const topic = f.annotations?.topic?.trim();
    if (topic === 'cron-function') {
      return { name, trigger: 'cron', schedule: f.annotations?.schedule ?? null, topics: [] };
    }
    if (topic) {
      const topics = topic
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      return { name, trigger: 'topic', schedule: null, topics };
    }
    return { name, trigger: 'http', schedule: null, topics: [] };
  });
  cache = { file, mtimeMs, wiring };
  return wiring;
}
