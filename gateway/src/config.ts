import { ConfigError } from '@weaver/shared/config';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** The default body limit, 1 MiB (see WEAVER_API_MAX_BODY_BYTES). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The gateway's own settings (README: "HTTP API"). Validated once; a bad value names the variable. */
export const GatewayEnvSchema = z.object({
  /** Extra origins allowed to call the API from a browser (comma-separated); unset = same origin only. */
  WEAVER_API_CORS_ORIGINS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.url({ message: 'must be a comma-separated list of origins such as https://bot.example' })),
    )
    .default([]),
  /**
   * Largest request body accepted, bytes. The biggest legitimate bodies are sweep requests
   * (POST /api/backtests/sweeps) with explicit value lists — up to 20 strategies × 10,000 values per
   * parameter, hundreds of KB — which run-backtest also accepts over HTTP (its MAX_JSON_SIZE: 1mb).
   * Everything else is a few KB. 1 MiB = stack.yml's MAX_JSON_SIZE for the gateway (the OpenFaaS template
   * refuses larger bodies before this app sees them); gateway/test/auth.test.ts checks they agree.
   */
  WEAVER_API_MAX_BODY_BYTES: positiveInt.max(10 * 1024 * 1024).default(MAX_BODY_BYTES),
  /** Mutations per second each client may sustain, and the burst it may spend at once. */
  WEAVER_API_RATE_PER_SEC: z.coerce.number().positive().max(10_000).default(5),
  WEAVER_API_RATE_BURST: positiveInt.max(100_000).default(30),
  /** Comment line sent on an idle event stream so proxies keep it open. */
  WEAVER_SSE_HEARTBEAT_MS: positiveInt.min(1000).default(15_000),
  /**
   * Behind the OpenFaaS template a response is sent whole, so an event stream answers one batch (or a
   * heartbeat after this long) and the browser reconnects with Last-Event-ID. Stay below exec_timeout.
   */
  WEAVER_SSE_WINDOW_MS: positiveInt.min(100).default(25_000),
  /** stack.yml for the System view; found next to the bundle or up from the working directory when unset. */
  WEAVER_STACK_FILE: z.string().min(1).optional(),
  /** How long an account read from the exchange is reused (keeps the venue's rate limit intact). */
  WEAVER_ACCOUNT_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
});
export type GatewayEnv = z.infer<typeof GatewayEnvSchema>;

export function parseGatewayEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = GatewayEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const fields: Record<string, string> = {};
    for (const issue of parsed.error.issues) fields[String(issue.path[0] ?? 'env')] = issue.message;
    throw new ConfigError(fields);
  }
  return parsed.data;
}
