/**
 * A gateway on a private test database, served over real HTTP (and callable through the OpenFaaS
 * handler contract), with the bus a suite asks for: real NATS (private prefix and stream) or the
 * in-process bus.
 */
import { randomBytes } from 'node:crypto';
import { type Bus, MemoryBus, setBus } from '@weaver/shared/bus';
import { resetExchanges } from '@weaver/shared/exchanges';
import { createTestNatsBus, useTestDatabase } from '@weaver/shared/testing';
import type { Sql } from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import { createGateway, type Gateway } from '../src/app.ts';
import type { DepsOverrides } from '../src/deps.ts';
import { createFaasHandler } from '../src/faas.ts';
import { type ServedGateway, serveGateway } from '../src/serve.ts';

export interface Harness {
  readonly sql: Sql;
  readonly bus: Bus;
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

export function useGateway(opts: { nats?: boolean; overrides?: DepsOverrides } = {}): Harness {
  const db = useTestDatabase();
  const token = randomBytes(24).toString('base64url');
  let bus: Bus;
  let dropNats: (() => Promise<void>) | undefined;
  let gateway: Gateway;
  let served: ServedGateway;
  let handler: ReturnType<typeof createFaasHandler>;

  beforeAll(async () => {
    if (opts.nats) {
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
