import { join, relative } from 'node:path';
import { MIGRATIONS_DIR } from '@weaver/shared/db';
import { BundleError, bundleFunction, projectVersion } from '../bundle/bundle.ts';
import { strategiesDirFor } from '../bundle/strategies.ts';
import type { Command } from '../main.ts';
import { PROJECT_ROOT } from '../runner/runner.ts';
import { loadStack, StackError } from '../runner/stack.ts';

const buildCommand: Command = {
  name: 'build',
  summary: 'bundle every function in stack.yml into build/<name>/ for the official node22 template',
  usage: `usage: weaver build [name ...] [--stack stack.yml] [--strategies DIR]

Bundles each function listed in stack.yml (or only those named) from its TypeScript source
(functions/<name>/handler.ts, gateway/handler.ts) with esbuild into the folder its \`handler:\` names:
  handler.js     CommonJS, dependencies inside; module.exports is the handler (the template requires it)
  migrations/    the SQL files the data layer reads beside handler.js
  package.json   only ccxt as a dependency; \`npm test\` runs smoke-test.js, which the template runs at
                 image build
  stack.yml      with its environment_file(s), in bundles whose code reads it (the gateway's System view)
  strategies/    your strategies, compiled to <name>.mjs, in bundles that load strategies by name
                 (generate-signals, run-backtest, gateway); the handler loads them from there
Your strategies come from --strategies DIR, else WEAVER_STRATEGIES_DIR, else ./strategies if it exists.
Then \`faas-cli build\` / \`faas-cli publish\` build the images with the template unchanged.`,
  async run(argv) {
    let stackFile = join(PROJECT_ROOT, 'stack.yml');
    let strategies: string | undefined;
    const names: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--stack') stackFile = argv[++i] ?? '';
      else if (argv[i] === '--strategies') {
        strategies = argv[++i];
        if (!strategies) {
          process.stderr.write(`weaver build: --strategies needs a folder\n${this.usage}\n`);
          return 2;
        }
      } else if (argv[i].startsWith('-')) {
        process.stderr.write(`weaver build: unknown option ${argv[i]}\n${this.usage}\n`);
        return 2;
      } else names.push(argv[i]);
    }
    let stack: ReturnType<typeof loadStack>;
    try {
      stack = loadStack(stackFile);
    } catch (e) {
      if (e instanceof StackError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stderr.write(`weaver build: ${(e as Error).message}\n`);
        return 1;
      }
      throw e;
    }
    const unknown = names.filter((n) => !stack.functions.some((f) => f.name === n));
    if (unknown.length) {
      process.stderr.write(
        `weaver build: not in ${relative(process.cwd(), stack.file)}: ${unknown.join(', ')}\n`,
      );
      return 2;
    }
    const chosen = stack.functions.filter((f) => names.length === 0 || names.includes(f.name));
    const version = projectVersion(stack.root);
    const stackFiles = [stack.file, ...new Set(stack.functions.flatMap((f) => f.environmentFiles))];
    const strategiesDir = strategiesDirFor(stack.root, strategies);
    const results = await Promise.allSettled(
      chosen.map((f) =>
        bundleFunction(
          { name: f.name, source: f.source, outDir: f.handlerDir },
          { root: stack.root, migrationsDir: MIGRATIONS_DIR, version, stackFiles, strategiesDir },
        ),
      ),
    );
    let failed = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') {
        const { name, outDir, bytes, ms, warnings } = r.value;
        const kb = (bytes / 1024).toFixed(0).padStart(6);
        process.stdout.write(
          `  ${name.padEnd(18)} ${kb} kB  ${String(ms).padStart(5)} ms  ${relative(stack.root, outDir)}/\n`,
        );
        for (const w of warnings) process.stdout.write(`    warning: ${w}\n`);
        if (r.value.files.length) process.stdout.write(`    with ${r.value.files.join(', ')}\n`);
        if (r.value.strategies.length)
          process.stdout.write(`    with strategies ${r.value.strategies.join(', ')}\n`);
      } else {
        failed++;
        const e = r.reason;
        process.stderr.write(`weaver build: ${e instanceof BundleError ? e.message : (e as Error).stack}\n`);
      }
    }
    process.stdout.write(`${results.length - failed} bundled, ${failed} failed\n`);
    return failed ? 1 : 0;
  },
};

export default buildCommand;
