/**
 * The one way callers (generate-signals, the backtester, the API) obtain strategies by name: built-ins
 * and user modules from WEAVER_STRATEGIES_DIR (`<name>.ts|.mts|.js|.mjs`, default export a
 * StrategyModule). A user file is imported again when its modification time changes, so the local
 * runner picks up an edited strategy without a restart. A module that cannot be loaded is reported
 * with its name and the reason (StrategyLoadError) and never affects the others.
 *
 * This file is the strategies' only contact with the file system; the modules themselves stay pure.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { env } from '../config/index.ts';
import type { StrategyConfig } from '../schemas/index.ts';
import { BUILTIN_STRATEGIES } from './builtin/index.ts';
import { forgetStrategy, knownStrategy, registerStrategy } from './catalog.ts';
import { mergeExits } from './exits.ts';
import { GuardedInstance, type StrategyFault } from './guard.ts';
import type { StrategyExits, StrategyModule } from './types.ts';

const builtins = new Map<string, StrategyModule>(BUILTIN_STRATEGIES.map((m) => [m.name, m]));
for (const m of BUILTIN_STRATEGIES) registerStrategy(m);

export function builtinStrategies(): StrategyModule[] {
  return [...builtins.values()];
}

export function getBuiltinStrategy(name: string): StrategyModule | undefined {
  return builtins.get(name);
}

export class StrategyLoadError extends Error {
  constructor(
    readonly strategy: string,
    readonly reason: string,
  ) {
    super(`strategy "${strategy}" could not be loaded: ${reason}`);
    this.name = 'StrategyLoadError';
  }
}

/** Parameters a strategy refused; `fields` maps `params.<path>` to the message. */
export class StrategyParamsError extends Error {
  constructor(
    readonly strategy: string,
    readonly fields: Record<string, string>,
  ) {
    super(
      `invalid parameters for strategy "${strategy}": ${Object.entries(fields)
        .map(([k, v]) => `${k} ${v}`)
        .join('; ')}`,
    );
    this.name = 'StrategyParamsError';
  }
}

/** A user strategy's file extensions, in the order preferred when two files share a name. */
export const STRATEGY_FILE_EXTENSIONS: readonly string[] = ['.ts', '.mts', '.js', '.mjs'];
/** A strategy's name (and a user strategy's file name). */
export const STRATEGY_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const EXTENSIONS = STRATEGY_FILE_EXTENSIONS;
const NAME = STRATEGY_NAME;

let dirOverride: string | null | undefined;

/** Use `dir` for user strategies instead of WEAVER_STRATEGIES_DIR (null: none; undefined: back to env). */
export function setStrategiesDir(dir: string | null | undefined): void {
  dirOverride = dir;
}

/** The folder user strategies are loaded from now (null: none). Worker threads are given the same. */
export function currentStrategiesDir(): string | null {
  return strategiesDir();
}

function strategiesDir(): string | null {
  if (dirOverride !== undefined) return dirOverride === null ? null : resolve(dirOverride);
  const d = env().WEAVER_STRATEGIES_DIR;
  return d ? resolve(d) : null;
}

const fn = z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', {
  message: 'must be a function',
});
const isObjectSchema = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { safeParse?: unknown }).safeParse === 'function' &&
  (v as { _zod?: { def?: { type?: string } } })._zod?.def?.type === 'object';

/** The shape a user module's default export must have. */
const ModuleShape = z.object({
  name: z.string().regex(NAME, { message: 'must be lower-case letters, digits and dashes' }),
  description: z.string().max(500),
  params: z.custom((v) => isObjectSchema(v), { message: 'must be a zod object schema (z.object({...}))' }),
  warmup: fn,
  create: fn,
  exits: fn.optional(),
  requires: fn.optional(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'default export'} ${i.message}`).join('; ');
}

interface Loaded {
  mtimeMs: number;
  module?: StrategyModule;
  error?: string;
}
const userCache = new Map<string, Loaded>();

async function findUserFile(dir: string, name: string): Promise<{ file: string; mtimeMs: number } | null> {
  for (const ext of EXTENSIONS) {
    const file = join(dir, `${name}${ext}`);
    try {
      const s = await stat(file);
      if (s.isFile()) return { file, mtimeMs: s.mtimeMs };
    } catch {
      // not this extension
    }
  }
  return null;
}

async function importUser(name: string, file: string, mtimeMs: number): Promise<Loaded> {
  let mod: unknown;
  try {
    // The query makes a changed file a new module instance; an unchanged one is served from the cache.
    mod = await import(`${pathToFileURL(file).href}?mtime=${Math.trunc(mtimeMs)}`);
  } catch (err) {
    return { mtimeMs, error: `import failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const candidate = (mod as { default?: unknown }).default;
  if (candidate === undefined) return { mtimeMs, error: 'the file has no default export' };
  const shape = ModuleShape.safeParse(candidate);
  if (!shape.success) return { mtimeMs, error: `invalid module: ${describeIssues(shape.error)}` };
  const m = candidate as StrategyModule;
  if (m.name !== name)
    return { mtimeMs, error: `the module is named "${m.name}" but its file is ${basename(file)}` };
  return { mtimeMs, module: m };
}

async function loadUser(name: string): Promise<StrategyModule> {
  const dir = strategiesDir();
  const found = dir ? await findUserFile(dir, name) : null;
  if (!found) {
    userCache.delete(name);
    forgetStrategy(name);
    const where = dir
      ? `, nor a file ${name}.{ts,js,mjs,mts} in ${dir}`
      : ' (WEAVER_STRATEGIES_DIR is not set)';
    throw new StrategyLoadError(name, `no such strategy: not a built-in${where}`);
  }
  let entry = userCache.get(name);
  if (!entry || entry.mtimeMs !== found.mtimeMs) {
    entry = await importUser(name, found.file, found.mtimeMs);
    userCache.set(name, entry);
    if (entry.module) registerStrategy(entry.module);
    else forgetStrategy(name);
  }
  if (!entry.module) throw new StrategyLoadError(name, entry.error ?? 'unknown error');
  return entry.module;
}

/**
 * The strategy module called `name`: a built-in, or the user module of that name (re-imported when
 * its file changed). Throws StrategyLoadError naming the strategy and the reason.
 */
export async function loadStrategy(name: string): Promise<StrategyModule> {
  const builtin = builtins.get(name);
  if (builtin) return builtin;
  if (!NAME.test(name))
    throw new StrategyLoadError(name, 'not a strategy name (lower-case letters, digits, dashes)');
  return loadUser(name);
}

/** The params schema as JSON Schema (draft 2020-12), input side: defaulted fields are optional. */
export function paramsJsonSchema(module: StrategyModule): Record<string, unknown> {
  return z.toJSONSchema(module.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export interface StrategyInfo {
  name: string;
  description: string;
  source: 'builtin' | 'user';
  /** JSON Schema of the parameters, for the UI's form. */
  paramsSchema: Record<string, unknown> | null;
  /** Parameters with every default applied (null when some parameter has no default). */
  defaults: Record<string, unknown> | null;
  /** Why a user module is unusable this run; null when it loads. */
  error: string | null;
}

function infoOf(m: StrategyModule, source: 'builtin' | 'user'): StrategyInfo {
  const parsed = m.params.safeParse({});
  return {
    name: m.name,
    description: m.description,
    source,
    paramsSchema: paramsJsonSchema(m),
    defaults: parsed.success ? (parsed.data as Record<string, unknown>) : null,
    error: null,
  };
}

/** Every strategy: built-ins, then each user module (loaded, or with the reason it cannot be). */
export async function listStrategies(): Promise<StrategyInfo[]> {
  const out = builtinStrategies().map((m) => infoOf(m, 'builtin'));
  const dir = strategiesDir();
  if (!dir) return out;
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return out;
  }
  const names = [
    ...new Set(
      files
        .filter((f) => EXTENSIONS.includes(extname(f)) && !f.endsWith('.d.ts') && !f.includes('.test.'))
        .map((f) => basename(f, extname(f))),
    ),
  ].sort();
  for (const name of names) {
    if (builtins.has(name)) {
      out.push({
        name,
        description: '',
        source: 'user',
        paramsSchema: null,
        defaults: null,
        error: `a built-in strategy is called "${name}": rename the file`,
      });
      continue;
    }
    try {
      out.push(infoOf(await loadStrategy(name), 'user'));
    } catch (err) {
      out.push({
        name,
        description: '',
        source: 'user',
        paramsSchema: null,
        defaults: null,
        error: err instanceof StrategyLoadError ? err.reason : String(err),
      });
    }
  }
  return out;
}

/** Validates raw parameters (defaults applied); StrategyParamsError names each bad `params.<field>`. */
export function parseStrategyParams(module: StrategyModule, raw: unknown): Record<string, unknown> {
  const r = module.params.safeParse(raw ?? {});
  if (r.success) return r.data as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const issue of r.error.issues) {
    const key = ['params', ...issue.path.map(String)].join('.');
    fields[key] ??= issue.message;
  }
  throw new StrategyParamsError(module.name, fields);
}

export interface PreparedStrategy {
  module: StrategyModule;
  params: Record<string, unknown>;
  warmup: number;
  /** The module's default exits (a config's own exits take precedence). */
  exits: StrategyExits;
}

/**
 * Loads a strategy and whatever it composes, validates its parameters and computes its warm-up:
 * everything `create` needs, checked once per run. Throws StrategyLoadError / StrategyParamsError.
 */
export async function prepareStrategy(name: string, rawParams: unknown): Promise<PreparedStrategy> {
  const module = await loadStrategy(name);
  // Members first, so the combination's own validation can check their parameters.
  if (module.requires) {
    const pre = module.params.safeParse(rawParams ?? {});
    if (pre.success) {
      for (const member of module.requires(pre.data)) await loadStrategy(member);
    }
  }
  const params = parseStrategyParams(module, rawParams);
  let warmup: unknown;
  let exits: unknown;
  try {
    warmup = module.warmup(params);
    exits = module.exits ? module.exits(params) : {};
  } catch (err) {
    throw new StrategyLoadError(
      name,
      `warmup() or exits() threw: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof warmup !== 'number' || !Number.isInteger(warmup) || warmup < 0) {
    throw new StrategyLoadError(
      name,
      `warmup() returned ${JSON.stringify(warmup)}; it must be an integer >= 0`,
    );
  }
  return { module, params, warmup, exits: (exits ?? {}) as StrategyExits };
}

/**
 * A guarded instance of a prepared strategy for one symbol (see GuardedInstance). A `create` that
 * throws is reported through `onFault` too; the instance then answers HOLD.
 */
export function createGuardedInstance(
  prepared: PreparedStrategy,
  onFault: (fault: StrategyFault) => void,
  symbol?: string,
): GuardedInstance {
  try {
    return new GuardedInstance(
      prepared.module.name,
      prepared.module.create(prepared.params),
      onFault,
      symbol,
    );
  } catch (err) {
    const g = new GuardedInstance(prepared.module.name, { next: () => 0 }, onFault, symbol);
    g.fault = {
      strategy: prepared.module.name,
      symbol,
      reason: `create() threw: ${err instanceof Error ? err.message : String(err)}`,
    };
    onFault(g.fault);
    return g;
  }
}

/** For tests: forget loaded user modules. */
export function clearStrategyCache(): void {
  for (const name of userCache.keys()) forgetStrategy(name);
  userCache.clear();
}

export { knownStrategy };

/** The exits a configured strategy runs with: its module's defaults under its configuration's own. */
export async function strategyExits(
  config: Pick<StrategyConfig, 'module' | 'params' | 'exits'>,
): Promise<StrategyExits> {
  const prepared = await prepareStrategy(config.module, config.params);
  return mergeExits(prepared.exits, config.exits);
}
