/**
 * Turns each function's TypeScript into what the official node22 template builds unchanged: a folder with
 * one CommonJS handler.js (dependencies inside) whose module.exports is the handler function, the SQL
 * migrations the data layer reads beside it, and a package.json whose `npm test` smoke-tests the bundle.
 * A bundle whose code reads stack.yml (the gateway's System view) carries stack.yml and its environment
 * files; one whose code loads strategies by name carries the user's strategies, compiled (strategies.ts).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message } from 'esbuild';
import { bundleStrategies, StrategiesBundleError } from './strategies.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const SMOKE_TEST = join(here, 'smoke-test.cjs');

/**
 * Optional native add-ons that their users load inside try/catch (ws → bufferutil, utf-8-validate): left
 * out of the bundle, so the image needs no compiler and falls back to plain JavaScript.
 */
export const OPTIONAL_NATIVE = ['bufferutil', 'utf-8-validate'];

/**
 * Large dependencies loaded only on demand (`await import('ccxt')` when a ccxt venue is configured): kept
 * out of handler.js, which stays small and loads without them, and listed in the bundle's package.json at
 * the version installed here, so the template's `npm i` puts them in the image.
 */
export const INSTALLED_AT_IMAGE_BUILD = ['ccxt'];

// ESM code asks import.meta.url where it lives (the migrations folder); in CommonJS that is __filename.
const META_URL = '__weaver_import_meta_url';
const BANNER = `const ${META_URL} = require('node:url').pathToFileURL(__filename).href;`;

/** The source files whose presence in a bundle means its code reads stack.yml / loads strategies. */
export const READS_STACK = 'shared/src/stack/index.ts';
export const LOADS_STRATEGIES = 'shared/src/strategies/registry.ts';
/** Where the user's compiled strategies go inside a bundle. */
export const BUNDLED_STRATEGIES = 'strategies';

/**
 * The entry: the handler, after pointing the registry at the strategies compiled into this bundle. They
 * win over a WEAVER_STRATEGIES_DIR that names no folder in the image (weaver.env may carry the path the
 * local runner uses); a folder that does exist there (mounted by the operator) is left in charge.
 */
const entry = (source: string): string => `const { existsSync } = require('node:fs');
const bundled = require('node:path').join(__dirname, ${JSON.stringify(BUNDLED_STRATEGIES)});
const configured = process.env.WEAVER_STRATEGIES_DIR;
if (existsSync(bundled) && !(configured && existsSync(configured))) process.env.WEAVER_STRATEGIES_DIR = bundled;
module.exports = require(${JSON.stringify(source)}).default;`;

export interface BundleSpec {
  name: string;
  /** TypeScript module whose default export is the handler (functions/<name>/handler.ts). */
  source: string;
  /** Output folder, stack.yml's `handler:` (build/<name>). */
  outDir: string;
}

export interface BundleOptions {
  root: string;
  migrationsDir: string;
  version: string;
  /** stack.yml and its environment files: copied, at their place relative to root, into bundles that read it. */
  stackFiles?: string[];
  /** The user's strategies folder, compiled into bundles that load strategies by name. */
  strategiesDir?: string | null;
}

export interface BundleResult {
  name: string;
  outDir: string;
  bytes: number;
  ms: number;
  warnings: string[];
  /** Source files inside the bundle, relative to the project root. */
  inputs: string[];
  /** Files copied beside handler.js besides migrations (stack.yml, weaver.env), relative to the bundle. */
  files: string[];
  /** User strategies compiled into the bundle's strategies/ folder. */
  strategies: string[];
}

export class BundleError extends Error {
  constructor(
    readonly fn: string,
    readonly messages: string[],
  ) {
    super(`${fn}: ${messages.join('\n')}`);
    this.name = 'BundleError';
  }
}

const text = (m: Message): string =>
  m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text;

/** Bundles one function into spec.outDir (emptied first). */
export async function bundleFunction(spec: BundleSpec, opts: BundleOptions): Promise<BundleResult> {
  const started = performance.now();
  try {
    statSync(spec.source);
  } catch {
    throw new BundleError(spec.name, [`${relative(opts.root, spec.source)} does not exist`]);
  }
  rmSync(spec.outDir, { recursive: true, force: true });
  mkdirSync(spec.outDir, { recursive: true });
  let warnings: string[] = [];
  let inputs: string[] = [];
  const installed = new Set<string>();
  try {
    const result = await build({
      // The template calls module.exports directly; the TypeScript module's default export is the handler.
      stdin: {
        contents: entry(spec.source),
        resolveDir: opts.root,
        sourcefile: `${spec.name}-entry.cjs`,
        loader: 'js',
      },
      absWorkingDir: opts.root,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      // The template's image is node 22; this repo's machines run 20, and the bundle must load on both.
      target: 'node20',
      outfile: join(spec.outDir, 'handler.js'),
      external: [...OPTIONAL_NATIVE, ...INSTALLED_AT_IMAGE_BUILD],
      define: { 'import.meta.url': META_URL },
      banner: { js: BANNER },
      keepNames: true,
      legalComments: 'none',
      logLevel: 'silent',
      metafile: true,
    });
    warnings = result.warnings.map(text);
    inputs = Object.keys(result.metafile.inputs);
    for (const out of Object.values(result.metafile.outputs)) {
      for (const i of out.imports)
        if (i.external && INSTALLED_AT_IMAGE_BUILD.includes(i.path)) installed.add(i.path);
    }
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    throw new BundleError(spec.name, errors?.length ? errors.map(text) : [(err as Error).message]);
  }
  const migrations = join(spec.outDir, 'migrations');
  mkdirSync(migrations);
  for (const f of readdirSync(opts.migrationsDir).filter((f) => f.endsWith('.sql'))) {
    copyFileSync(join(opts.migrationsDir, f), join(migrations, f));
  }
  const files: string[] = [];
  if (inputs.includes(READS_STACK)) {
    for (const f of opts.stackFiles ?? []) {
      const at = relative(opts.root, f);
      if (at.startsWith('..') || isAbsolute(at)) {
        throw new BundleError(spec.name, [`${f} is outside ${opts.root}: the image could not find it`]);
      }
      mkdirSync(dirname(join(spec.outDir, at)), { recursive: true });
      copyFileSync(f, join(spec.outDir, at));
      files.push(at);
    }
  }
  let strategies: string[] = [];
  if (opts.strategiesDir && inputs.includes(LOADS_STRATEGIES)) {
    try {
      strategies = await bundleStrategies(
        opts.strategiesDir,
        join(spec.outDir, BUNDLED_STRATEGIES),
        opts.root,
      );
    } catch (e) {
      throw new BundleError(spec.name, [
        e instanceof StrategiesBundleError ? e.message : (e as Error).message,
      ]);
    }
  }
  copyFileSync(SMOKE_TEST, join(spec.outDir, 'smoke-test.js'));
  const pkg = {
    name: `weaver-${spec.name}`,
    version: opts.version,
    private: true,
    description: `Weaver function ${spec.name}, bundled by \`weaver build\` for the node22 template`,
    main: 'handler.js',
    scripts: { test: 'node smoke-test.js' },
    dependencies: Object.fromEntries([...installed].sort().map((d) => [d, installedVersion(opts.root, d)])),
  };
  writeFileSync(join(spec.outDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  return {
    name: spec.name,
    outDir: spec.outDir,
    bytes: statSync(join(spec.outDir, 'handler.js')).size,
    ms: Math.round(performance.now() - started),
    warnings,
    inputs,
    files,
    strategies,
  };
}

/** The exact version of `dep` in this install, so the image gets what the tests ran against. */
function installedVersion(root: string, dep: string): string {
  return (
    JSON.parse(readFileSync(join(root, 'node_modules', dep, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

export function projectVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}
