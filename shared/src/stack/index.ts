/**
 * stack.yml, read the way faas-cli and the connectors read it: the one parser of Weaver's wiring, used by
 * the local runner (which hosts, schedules and routes the functions from it), `weaver build` (which
 * bundles them) and the gateway's System view (which shows each function's schedule and topics).
 * Every rule the connectors apply silently (a schedule without `topic: cron-function` is ignored, a
 * bad cron expression is skipped) is an error here, so a mistake shows up at `npm start`, not on faasd.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Cron } from 'croner';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** cron-connector schedules a function only when its `topic` annotation is exactly this. */
export const CRON_TOPIC = 'cron-function';

/**
 * Per-function `environment` keys the runner honours itself (of-watchdog and the node22 template read
 * them). Application settings belong in weaver.env: one process hosts every function locally, so a
 * per-function value for them could not be honoured and would be configured in two places.
 */
export const FUNCTION_ENV_KEYS = [
  'WEAVER_FUNCTION',
  'exec_timeout',
  'read_timeout',
  'write_timeout',
  'MAX_JSON_SIZE',
  'MAX_RAW_SIZE',
  'RAW_BODY',
] as const;

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const FunctionSpecSchema = z
  .object({
    lang: z.string().min(1),
    handler: z.string().min(1),
    image: z.string().min(1),
    environment: z.record(z.string(), scalar).default({}),
    environment_file: z.array(z.string()).default([]),
    secrets: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be a secret name' }))
      .default([]),
    annotations: z.record(z.string(), scalar).default({}),
    labels: z.record(z.string(), scalar).default({}),
    limits: z.object({ memory: z.string().optional(), cpu: z.string().optional() }).optional(),
    requests: z.object({ memory: z.string().optional(), cpu: z.string().optional() }).optional(),
  })
  .strict();

const StackSchema = z.object({
  version: z.union([z.string(), z.number()]).transform(String),
  provider: z.object({ name: z.literal('openfaas'), gateway: z.string().url() }),
  configuration: z
    .object({ templates: z.array(z.object({ name: z.string(), source: z.string().optional() })).default([]) })
    .optional(),
  functions: z.record(z.string(), FunctionSpecSchema),
});

export type Trigger =
  | { kind: 'cron'; schedule: string; async: boolean }
  | { kind: 'topic'; subjects: string[] }
  | { kind: 'http' };

export interface StackFunction {
  name: string;
  lang: string;
  image: string;
  handlerDir: string;
  trigger: Trigger;
  secrets: string[];
  /** Per-function environment (only FUNCTION_ENV_KEYS). */
  environment: Record<string, string>;
  /** Merged `environment:` maps of the environment_file files, in order. */
  sharedEnvironment: Record<string, string>;
  /** The environment_file files, absolute (faas-cli reads them relative to stack.yml). */
  environmentFiles: string[];
  execTimeoutMs: number;
  maxJsonBytes: number;
  maxRawBytes: number;
  rawBody: boolean;
  annotations: Record<string, string>;
  memory: string | null;
}

export interface Stack {
  file: string;
  root: string;
  gateway: string;
  templates: string[];
  functions: StackFunction[];
}

export class StackError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'StackError';
  }
}

/** faas-cli's substitution: `${VAR}` and `${VAR:-default}` from the environment. */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_, name: string, fallback?: string) => {
      const v = env[name];
      return v !== undefined && v !== '' ? v : (fallback ?? '');
    },
  );
}

/** Go durations as of-watchdog parses them ("10s", "15m5s", "1h", "250ms"); a bare number is seconds. */
export function parseDuration(value: string): number {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let total = 0;
  let rest = v;
  while (rest.length) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`"${value}" is not a duration such as 30s or 15m`);
    total += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  if (!v) throw new Error('empty duration');
  return total;
}

/** Byte sizes as body-parser reads MAX_JSON_SIZE ("100kb", "1mb", 1024 multiples; a bare number is bytes). */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(value.trim());
  if (!m) throw new Error(`"${value}" is not a size such as 100kb or 1mb`);
  const mult: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };
  return Math.floor(Number(m[1]) * mult[(m[2] ?? 'b').toLowerCase()]);
}

/** robfig/cron's standard parser (cron-connector): five fields or a descriptor such as @hourly / @every 5m. */
export function checkSchedule(schedule: string): string | null {
  const s = schedule.trim();
  if (s.startsWith('@every ')) {
    try {
      return parseDuration(s.slice(7)) > 0 ? null : 'must be a positive interval';
    } catch (e) {
      return (e as Error).message;
    }
  }
  if (s.startsWith('@')) {
    return ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'].includes(s)
      ? null
      : `unknown descriptor ${s}`;
  }
  if (s.split(/\s+/).length !== 5) return 'must have five fields (minute hour day month weekday)';
  try {
    new Cron(s, { paused: true, timezone: 'Etc/UTC' });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function readEnvironmentFile(file: string, problems: string[]): Record<string, string> {
  if (!existsSync(file)) {
    problems.push(`environment_file ${file} does not exist`);
    return {};
  }
  const doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
  const parsed = z.object({ environment: z.record(z.string(), scalar).default({}) }).safeParse(doc ?? {});
  if (!parsed.success) {
    problems.push(`environment_file ${file}: must be YAML with an "environment:" map of strings`);
    return {};
  }
  return parsed.data.environment;
}

export function loadStack(file: string, env: NodeJS.ProcessEnv = process.env): Stack {
  const path = resolve(file);
  const root = dirname(path);
  const raw = parseYaml(substituteEnv(readFileSync(path, 'utf8'), env)) as unknown;
  const parsed = StackSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StackError(
      path,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const problems: string[] = [];
  const functions: StackFunction[] = [];
  for (const [name, spec] of Object.entries(parsed.data.functions)) {
    const at = (what: string) => problems.push(`functions.${name}.${what}`);
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
      problems.push(`functions.${name}: the name must be a DNS label (RFC 1035: a-z, 0-9, -)`);
    }
    const topic = spec.annotations.topic;
    const schedule = spec.annotations.schedule;
    let trigger: Trigger = { kind: 'http' };
    if (topic === CRON_TOPIC) {
      if (!schedule) at('annotations.schedule: is required with topic: cron-function');
      else {
        const bad = checkSchedule(schedule);
        if (bad) at(`annotations.schedule: ${bad}`);
        trigger = { kind: 'cron', schedule, async: spec.annotations.async === 'true' };
      }
    } else if (topic !== undefined) {
      if (schedule) at('annotations.schedule: cron-connector ignores it unless topic is cron-function');
      const subjects = topic
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!subjects.length) at('annotations.topic: names no subject');
      for (const s of subjects) {
        if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(s)) at(`annotations.topic: "${s}" is not a subject`);
      }
      trigger = { kind: 'topic', subjects };
    } else if (schedule) {
      at('annotations.schedule: cron-connector ignores it unless topic is cron-function');
    }
    for (const key of Object.keys(spec.environment)) {
      if (!(FUNCTION_ENV_KEYS as readonly string[]).includes(key)) {
        at(`environment.${key}: application settings go in weaver.env (one place for every function)`);
      }
    }
    const sharedEnvironment: Record<string, string> = {};
    for (const f of spec.environment_file)
      Object.assign(sharedEnvironment, readEnvironmentFile(join(root, f), problems));
    const e = spec.environment;
    const num = (key: string, fallback: string, parse: (v: string) => number): number => {
      try {
        return parse(e[key] ?? fallback);
      } catch (err) {
        at(`environment.${key}: ${(err as Error).message}`);
        return parse(fallback);
      }
    };
    functions.push({
      name,
      lang: spec.lang,
      image: spec.image,
      handlerDir: join(root, spec.handler),
      trigger,
      secrets: spec.secrets,
      environment: e,
      sharedEnvironment,
      environmentFiles: spec.environment_file.map((f) => join(root, f)),
      // The node22 image's defaults when stack.yml says nothing.
      execTimeoutMs: num('exec_timeout', '10s', parseDuration),
      maxJsonBytes: num('MAX_JSON_SIZE', '100kb', parseBytes),
      maxRawBytes: num('MAX_RAW_SIZE', '100kb', parseBytes),
      rawBody: e.RAW_BODY === 'true',
      annotations: spec.annotations,
      memory: spec.limits?.memory ?? null,
    });
  }
  if (problems.length) throw new StackError(path, problems);
  return {
    file: path,
    root,
    gateway: parsed.data.provider.gateway,
    templates: parsed.data.configuration?.templates.map((t) => t.name) ?? [],
    functions,
  };
}
