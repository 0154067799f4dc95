/**
 * `weaver <command> [args]`. Each command is its own module in ./commands/<name>.ts exporting a
 * default `Command`; adding a command never touches this file.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Command {
  name: string;
  summary: string;
  /** Usage text shown by `weaver help <command>`, `weaver <command> --help` and on a usage error. */
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

const here = dirname(fileURLToPath(import.meta.url));
const commandsDir = join(here, 'commands');

async function load(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) return undefined;
  const file = join(commandsDir, `${name}.ts`);
  if (!existsSync(file)) return undefined;
  return (await import(file)).default as Command;
}

async function help(): Promise<void> {
  const names = readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  const lines = ['usage: weaver <command> [options]', '', 'commands:'];
  for (const n of names) {
    const c = await load(n);
    if (c) lines.push(`  ${c.name.padEnd(16)} ${c.summary}`);
  }
  lines.push('', "weaver help <command> shows a command's options.");
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `--help` / `-h` anywhere before a `--` asks for the command's usage, whatever else is on the line. */
function asksForHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === 'help' || name === '--help' || name === '-h') {
  const c = rest[0] ? await load(rest[0]) : undefined;
  if (c) process.stdout.write(`${c.usage}\n`);
  else await help();
} else {
  const command = await load(name);
  if (!command) {
    process.stderr.write(`weaver: unknown command "${name}"\n`);
    await help();
    process.exitCode = 2;
  } else if (asksForHelp(rest)) {
    // Answered here, so no command has to know the flag and none runs half-way before noticing it.
    process.stdout.write(`${command.usage}\n`);
  } else {
    process.exitCode = await command.run(rest);
  }
}
