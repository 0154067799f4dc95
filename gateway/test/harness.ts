/**
 * A gateway on a private test database, served over real HTTP (and callable through the OpenFaaS
 * handler contract), on real NATS JetStream (private prefix and stream) whenever NATS_URL is set, as
 * deployed. The in-process bus is for suites about the local runner's fallback (no NATS): they ask for
 * `bus: 'memory'`; without NATS_URL every suite runs on it.
 */
import { randomBytes } from 'node:crypto';
import { type Bus, MemoryBus, setBus } from '@weaver/shared/bus';
import { resetExchanges } from '@weaver/shared/exchanges';
import { createTestNatsBus, natsUrl, useTestDatabase } from '@weaver/shared/testing';
import type { Sql } from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import { createGateway, type Gateway } from '../src/app.ts';
import type { DepsOverrides } from '../src/deps.ts';
import { createFaasHandler } from '../src/faas.ts';
import { type ServedGateway, serveGateway } from '../src/serve.ts';

export interface Harness {
  readonly sql: Sql;
  readonly bus: Bus;
  /** Which bus the gateway runs on. */
  readonly busMode: 'nats' | 'memory';
  readonly gateway: Gateway;
  readonly url: string;
  readonly token: string;
  /** Fetches `path` (e.g. /api/trades) with the token unless `auth: false`. */
  call(path: string, init?: RequestInit & { auth?: boolean; json?: unknown }): Promise<Response>;
  /** call() and parse the JSON answer. */
  json<T = unknown>(
    path: string,
    init?: RequestInit & { auth?: boolean; json?: unknown },
  ): Promise<{ status: number; body: T }>;
  handler: ReturnType<typeof createFaasHandler>;
}

export function useGateway(opts: { bus?: 'nats' | 'memory'; overrides?: DepsOverrides } = {}): Harness {
  const db = useTestDatabase();
  const busMode = opts.bus ?? (natsUrl() ? 'nats' : 'memory');
  const token = randomBytes(24).toString('base64url');
  let bus: Bus;
  let dropNats: (() => Promise<void>) | undefined;
  let gateway: Gateway;
  let served: ServedGateway;
  let handler: ReturnType<typeof createFaasHandler>;

  beforeAll(async () => {
    if (busMode === 'nats') {
      const t = await createTestNatsBus();
      bus = t.bus;
      dropNats = t.drop;
    } else {
      bus = new MemoryBus(`t${randomBytes(3).toString('hex')}`);
    }
    setBus(bus);
    gateway = createGateway({ apiToken: () => token, bus: async () => bus, ...opts.overrides });
    served = await serveGateway(gateway);
    handler = createFaasHandler(() => gateway);
  });
  afterAll(async () => {
    await served?.close();
    await resetExchanges();
    await dropNats?.();
  });

  const call = (
    path: string,
    init: RequestInit & { auth?: boolean; json?: unknown } = {},
  ): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (init.auth !== false && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(`${served.url}${path}`, { ...init, headers, body });
  };

  return {
    get sql() {
      return db.sql;
    },
    get bus() {
      return bus;
    },
    get gateway() {
      return gateway;
    },
    get url() {
      return served.url;
    },
    busMode,
    token,
    call,
    async json<T>(path: string, init?: RequestInit & { auth?: boolean; json?: unknown }) {
      const res = await call(path, init);
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
    get handler() {
      return handler;
    },
  };
}
