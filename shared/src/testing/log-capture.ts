/**
 * The suite-wide secrets check (vitest setupFiles of the node project): everything a test file's process
 * writes — each line of Weaver's logger wherever it is sent (tests often capture it into an array), and
 * whatever reaches stdout, stderr or the console — is kept, and after the file's last hook the file
 * fails if any secret value appears in it: every value this process read as a Secret (config's
 * knownSecretValues) and every made-up one the tests registered (testSecret: the fake venues' keys).
 * Output of child processes is theirs to check (it never passes through this process's streams).
 */
import { format } from 'node:util';
import { afterAll } from 'vitest';
import { knownSecretValues } from '../config/secrets.ts';
import { observeLogLines } from '../log/index.ts';
import { findLeaks } from './leaks.ts';
import { testSecretValues } from './test-secrets.ts';

const captured: string[] = [];
const keep = (chunk: unknown): void => {
  captured.push(
    typeof chunk === 'string'
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8')
        : String(chunk),
  );
};

const restore: (() => void)[] = [observeLogLines(keep)];

for (const stream of [process.stdout, process.stderr]) {
  const original = stream.write;
  stream.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    keep(chunk);
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  restore.push(() => {
    stream.write = original;
  });
}

const CONSOLE = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
for (const method of CONSOLE) {
  const original = console[method];
  console[method] = (...args: unknown[]) => {
    keep(format(...args));
    original.apply(console, args);
  };
  restore.push(() => {
    console[method] = original;
  });
}

afterAll(() => {
  for (const r of restore.splice(0)) r();
  const leaks = findLeaks(captured, [...knownSecretValues(), ...testSecretValues()]);
  captured.length = 0;
  if (leaks.length) {
    throw new Error(
      `secret values appeared in this test file's log output (logger, stdout, stderr or console):\n${leaks.join('\n')}`,
    );
  }
});
