import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret value that cannot leak by accident: printing, logging, string interpolation and JSON all show
 * "[redacted]". Only `reveal()` gives the value, and only code that hands it to a client calls it.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    REVEALED.add(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Every secret value read in this process, so the logger can scrub one that slipped into a message. */
const REVEALED = new Set<string>();
export function knownSecretValues(): ReadonlySet<string> {
  return REVEALED;
}

/** OpenFaaS mounts each secret named in stack.yml as a file here. */
export function secretsDir(): string {
  return process.env.WEAVER_SECRETS_DIR ?? '/var/openfaas/secrets';
}

/**
 * Reads secret `name` from the OpenFaaS mount, falling back to the env variable `envName`.
 * Returns undefined when neither is set; trailing newlines from `--from-file` are dropped.
 */
export function readSecret(name: string, envName?: string): Secret | undefined {
  try {
    const value = readFileSync(join(secretsDir(), name), 'utf8').replace(/\r?\n$/, '');
    if (value) return new Secret(value);
  } catch {
    // not mounted: fall through to the environment
  }
  const fromEnv = envName ? process.env[envName] : undefined;
  return fromEnv ? new Secret(fromEnv) : undefined;
}
