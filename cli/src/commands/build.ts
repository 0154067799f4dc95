import { join, relative } from 'node:path';
import { MIGRATIONS_DIR } from '@weaver/shared/db';
import { BundleError, bundleFunction, projectVersion } from '../bundle/bundle.ts';
import type { Command } from '../main.ts';
import { PROJECT_ROOT } from '../runner/runner.ts';
import { loadStack, StackError } from '../runner/stack.ts';

const buildCommand: Command = {
  name: 'build',
  summary: 'bundle every function in stack.yml into build/<name>/ for the official node22 template',
  usage: `usage: weaver build [name ...] [--stack stack.yml]

Bundles each function listed in stack.yml (or only those named) from its TypeScript source
(functions/<name>/handler.ts, gateway/handler.ts) with esbuild into the folder its \`handler:\` names:
  handler.js     CommonJS, dependencies inside; module.exports is the handler (the template requires it)
  migrations/    the SQL files the data layer reads beside handler.js
  package.json   no dependencies; \`npm test\` runs smoke-test.js, which the template runs at image build
Then \`faas-cli build\` / \`faas-cli publish\` build the images with the template unchanged.`,
  async run(argv) {
    let stackFile = join(PROJECT_ROOT, 'stack.yml');
    const names: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--stack') stackFile = argv[++i] ?? '';
      else if (argv[i].startsWith('-')) {
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
    const results = await Promise.allSettled(
      chosen.map((f) =>
        bundleFunction(
          { name: f.name, source: f.source, outDir: f.handlerDir },
          { root: stack.root, migrationsDir: MIGRATIONS_DIR, version },
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
