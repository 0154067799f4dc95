import pino, { type Logger } from 'pino';
import { knownSecretValues } from '../config/secrets.ts';

export type { Logger } from 'pino';

// Keys whose values are never written, wherever they appear in a log object.
const REDACT_PATHS = [
  'password',
  'secret',
  'token',
  'apiKey',
  'keyId',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.keyId',
  '*.authorization',
  'headers.authorization',
  'headers["apca-api-key-id"]',
  'headers["apca-api-secret-key"]',
  '*.headers.authorization',
  '*.headers["apca-api-key-id"]',
  '*.headers["apca-api-secret-key"]',
];

/** Replaces any known secret value inside a log line (the last line of defence after redaction by key). */
function scrub(line: string): string {
  let out = line;
  for (const value of knownSecretValues()) {
    if (value.length >= 6 && out.includes(value)) out = out.split(value).join('[redacted]');
  }
  return out;
}

const observers = new Set<(line: string) => void>();

/**
 * Also hand every line written from now on, wherever it goes, to `observer` (the test suite's check that no
 * secret reaches a log line). Returns the function that stops it.
 */
export function observeLogLines(observer: (line: string) => void): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

function build(write: (line: string) => void, level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'weaver' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    {
      write: (line: string) => {
        const clean = scrub(line);
        for (const o of observers) o(clean);
        write(clean);
      },
    },
  );
}

let root: Logger | undefined;

/** The process's JSON logger: level from LOG_LEVEL, secrets redacted by key and by value. */
export function logger(): Logger {
  root ??= build((line) => process.stdout.write(line), process.env.LOG_LEVEL ?? 'info');
  return root;
}

/** Replace the destination (tests capture every line to prove no secret is written). */
export function setLogDestination(write: (line: string) => void, level = 'info'): void {
  root = build(write, level);
}
