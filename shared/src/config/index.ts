import { z } from 'zod';
import { readSecret, type Secret } from './secrets.ts';

export { knownSecretValues, readSecret, Secret, secretsDir } from './secrets.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Every setting Weaver reads from the environment. README.md lists them with the same defaults. */
export const EnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
    .optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(5),
  NATS_URL: z.string().min(1).optional(),
  WEAVER_SUBJECT_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, { message: 'must be a single subject token' })
    .default('weaver'),
  WEAVER_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('WEAVER'),
  WEAVER_EXCHANGE: z.string().min(1).default('sim'),
  WEAVER_LIVE_TRADING: bool.default(false),
  WEAVER_ALPACA_ACCOUNT_ID: z.string().optional(),
  WEAVER_ALPACA_FEED: z.enum(['iex', 'sip']).default('iex'),
  WEAVER_ALPACA_TRADING_URL: z.string().url().optional(),
  WEAVER_ALPACA_DATA_URL: z.string().url().optional(),
  /** The CCXT exchange id the `ccxt` adapter trades (spot), e.g. binance, kraken. */
  WEAVER_CCXT_EXCHANGE: z
    .string()
    .regex(/^[a-z0-9]+$/, { message: 'must be a CCXT exchange id such as binance' })
    .default('binance'),
  /** JSON object of CCXT `urls.api` entries to override, e.g. {"public":"https://proxy/api/v3"}. */
  WEAVER_CCXT_URLS: z
    .string()
    .transform((v, ctx) => {
      try {
        const parsed = z.record(z.string(), z.string().url()).safeParse(JSON.parse(v));
        if (parsed.success) return parsed.data;
      } catch {
        // reported below
      }
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of URLs, e.g. {"public":"https://…"}' });
      return z.NEVER;
    })
    .optional(),
  /** The account id (uid) the CCXT keys must open before live orders are sent. */
  WEAVER_CCXT_ACCOUNT_ID: z.string().optional(),
  WEAVER_STRATEGIES_DIR: z.string().optional(),
  /** Accelerated demo clock, `<epoch ms>@<real start ms>x<speed>` (see clock/index.ts); unset = real time. */
  WEAVER_CLOCK: z
    .string()
    .regex(/^\d+@\d+x\d+(\.\d+)?$/, { message: 'must look like <epoch ms>@<real start ms>x<speed>' })
    .optional(),
  /** Deployed functions apply pending migrations on their cold start (see db/migrate.ts ensureMigrated). */
  WEAVER_AUTO_MIGRATE: bool.default(true),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});
export type Env = z.infer<typeof EnvSchema>;

export interface Secrets {
  alpacaKeyId?: Secret;
  alpacaSecretKey?: Secret;
  apiToken?: Secret;
  ccxtApiKey?: Secret;
  ccxtSecret?: Secret;
}

export class ConfigError extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(
      `invalid configuration: ${Object.entries(fields)
        .map(([k, v]) => `${k} ${v}`)
        .join('; ')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Parses an environment (process.env by default); a bad value throws ConfigError naming the variable. */
export function parseEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const fields: Record<string, string> = {};
    for (const issue of parsed.error.issues) fields[issue.path.join('.') || 'env'] = issue.message;
    throw new ConfigError(fields);
  }
  return parsed.data;
}

let cached: Env | undefined;
/** The validated environment of this process, parsed once. */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}
/** Forget the parsed environment (tests and the local runner change process.env). */
export function resetEnv(): void {
  cached = undefined;
}

/** Like env() but also insists on the variables `names`: a missing one throws ConfigError naming it. */
export function requireEnv<K extends keyof Env>(...names: K[]): Env & Required<Pick<Env, K>> {
  const e = env();
  const missing: Record<string, string> = {};
  for (const n of names) if (e[n] === undefined) missing[n as string] = 'is required';
  if (Object.keys(missing).length) throw new ConfigError(missing);
  return e as Env & Required<Pick<Env, K>>;
}

/**
 * An exchange key, or undefined when the venue is not configured. faasd refuses to deploy a function whose
 * secret does not exist, and a function mounts the keys of every venue family it may trade on, so the
 * secrets of a venue you do not use are created holding `off` (deploy.yml does): that means "no keys".
 */
function venueKey(name: string, envName: string): Secret | undefined {
  const s = readSecret(name, envName);
  return s && s.reveal() !== 'off' ? s : undefined;
}

export function secrets(): Secrets {
  return {
    alpacaKeyId: venueKey('alpaca-key-id', 'APCA_API_KEY_ID'),
    alpacaSecretKey: venueKey('alpaca-secret-key', 'APCA_API_SECRET_KEY'),
    apiToken: readSecret('weaver-api-token', 'WEAVER_API_TOKEN'),
    ccxtApiKey: venueKey('ccxt-api-key', 'CCXT_API_KEY'),
    ccxtSecret: venueKey('ccxt-secret', 'CCXT_SECRET'),
  };
}
