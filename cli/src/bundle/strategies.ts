/**
 * User strategies (WEAVER_STRATEGIES_DIR) compiled for a function image. The registry imports a user
 * module by file at run time, but the node22 image has neither tsx nor node_modules beside handler.js:
 * so each `<name>.ts|.mts|.js|.mjs` becomes one ES module `<name>.mjs` with its imports (zod, Weaver's
 * indicators) inside, and modules shared by several strategies go to chunks/. The registry then loads
 * `<name>.mjs` from the bundle's strategies/ folder exactly as it loads a user file locally.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { STRATEGY_FILE_EXTENSIONS as EXTENSIONS, STRATEGY_NAME as NAME } from '@weaver/shared/strategies';
import { build, type Message } from 'esbuild';

/** The strategy files the registry would load from `dir`, by name (the first extension wins, as there). */
export function strategyFiles(dir: string): Map<string, string> {
  const files = readdirSync(dir).filter(
    (f) =>
      EXTENSIONS.includes(extname(f)) &&
      !f.endsWith('.d.ts') &&
      !f.includes('.test.') &&
      statSync(join(dir, f)).isFile(),
  );
  const out = new Map<string, string>();
  for (const ext of EXTENSIONS) {
    for (const f of files.filter((x) => extname(x) === ext)) {
      const name = basename(f, ext);
      if (NAME.test(name) && !out.has(name)) out.set(name, join(dir, f));
    }
  }
  return out;
}

/** The user's strategies folder for a build: the one named, else WEAVER_STRATEGIES_DIR, else ./strategies. */
export function strategiesDirFor(root: string, named?: string): string | null {
  if (named) return resolve(named);
  if (process.env.WEAVER_STRATEGIES_DIR) return resolve(process.env.WEAVER_STRATEGIES_DIR);
  const conventional = join(root, 'strategies');
  return existsSync(conventional) ? conventional : null;
}

export class StrategiesBundleError extends Error {
  constructor(readonly messages: string[]) {
    super(`user strategies: ${messages.join('\n')}`);
    this.name = 'StrategiesBundleError';
  }
}

const text = (m: Message): string =>
  m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text;

/**
 * Compiles every strategy in `dir` into `outDir` (`<name>.mjs`, chunks/); returns the names. Bare imports
 * resolve from the strategy's folder and then from this project's node_modules, so a strategy kept
 * outside the repository can still import zod and `@weaver/shared/indicators`.
 */
export async function bundleStrategies(folder: string, outDir: string, root: string): Promise<string[]> {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new StrategiesBundleError([`${dir} is not a folder`]);
  }
  const files = strategyFiles(dir);
  if (files.size === 0) return [];
  try {
    await build({
      entryPoints: Object.fromEntries(files),
      outdir: outDir,
      absWorkingDir: root,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      nodePaths: [join(root, 'node_modules')],
      // A CommonJS dependency inside an ES module asks for `require`; give it the real one.
      banner: {
        js: "import { createRequire as __weaverCreateRequire } from 'node:module';\nconst require = __weaverCreateRequire(import.meta.url);",
      },
      keepNames: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors;
    throw new StrategiesBundleError(errors?.length ? errors.map(text) : [(err as Error).message]);
  }
  return [...files.keys()].sort();
}
