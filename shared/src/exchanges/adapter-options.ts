/** Pieces every adapter's option schema shares: secrets, retry settings, and parse errors naming the option. */
import { z } from 'zod';
import { Secret } from '../config/index.ts';
import { DEFAULT_RETRY } from './resilience.ts';

/** A secret given as a Secret (from config) or a plain string (tests, tools), held as a Secret. */
export const SecretInput = z.union([
  z.instanceof(Secret),
  z
    .string()
    .min(1)
    .transform((s) => new Secret(s)),
]);

export const RetryOptions = z
  .object({
    maxRetries: z.number().int().min(0).max(20).default(DEFAULT_RETRY.maxRetries),
    initialDelayMs: z.number().int().min(0).default(DEFAULT_RETRY.initialDelayMs),
    maxDelayMs: z.number().int().min(0).default(DEFAULT_RETRY.maxDelayMs),
  })
  .default(DEFAULT_RETRY);

/** An adapter cannot be built from its options or the configuration. */
export class AdapterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterConfigError';
  }
}

/** Parses `input` with `schema`; a bad value throws naming the adapter and the option. */
export function parseAdapterOptions<S extends z.ZodType>(
  adapter: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  throw new AdapterConfigError(`${adapter} option ${first.path.join('.') || '(options)'}: ${first.message}`);
}
