/**
 * What the API needs from the process, in one place: the database, the bus, the exchange, the token,
 * the clock. Defaults are the process's own (requestDb(), bus(), the configured exchange, the secret); the local
 * runner and tests pass theirs.
 */
import { type Bus, bus as processBus } from '@weaver/shared/bus';
import { clock } from '@weaver/shared/clock';
import { secrets } from '@weaver/shared/config';
import { requestDb, type Sql } from '@weaver/shared/db';
import { type ExchangeAdapter, getExchange } from '@weaver/shared/exchanges';
import { type GatewayEnv, parseGatewayEnv } from './config.ts';
import { RateLimiter } from './limits.ts';

export interface Deps {
  env: GatewayEnv;
  sql(): Sql;
  bus(): Promise<Bus>;
  /** The configured exchange (WEAVER_EXCHANGE): account, positions, orders at the venue. */
  exchange(): Promise<ExchangeAdapter>;
  /** The API token, or undefined when none is configured (the API then refuses every guarded route). */
  apiToken(): string | undefined;
  /** "Now" for trading decisions (honours the demo's accelerated clock), epoch ms. */
  now(): number;
  limiter: RateLimiter;
}

export type DepsOverrides = Partial<Omit<Deps, 'env' | 'limiter'>> & { env?: Partial<GatewayEnv> };

export function createDeps(overrides: DepsOverrides = {}): Deps {
  const env = { ...parseGatewayEnv(), ...overrides.env };
  let token: { value: string | undefined } | undefined;
  return {
    env,
    sql: overrides.sql ?? requestDb,
    bus: overrides.bus ?? processBus,
    exchange: overrides.exchange ?? getExchange,
    // Read once: the secret file is mounted at deploy time, and a file read per request would cost more
    // than the whole token check.
    apiToken:
      overrides.apiToken ??
      (() => {
        token ??= { value: secrets().apiToken?.reveal() };
        return token.value;
      }),
    now: overrides.now ?? (() => clock().now()),
    limiter: new RateLimiter(env.WEAVER_API_RATE_PER_SEC, env.WEAVER_API_RATE_BURST),
  };
}
