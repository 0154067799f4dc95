/**
 * Serves the API with @hono/node-server, streaming (event streams stay open): how the benchmark and the
 * tests run it, and how a host that is not the OpenFaaS template can.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Gateway } from './app.ts';

export interface ServedGateway {
  /** Origin, e.g. http://127.0.0.1:43127 (the API is at `${url}/api`). */
  url: string;
  close(): Promise<void>;
}

export function serveGateway(
  gateway: Gateway,
  opts: { port?: number; hostname?: string } = {},
): Promise<ServedGateway> {
  const hostname = opts.hostname ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: gateway.fetch, port: opts.port ?? 0, hostname }, (info: AddressInfo) => {
      resolve({
        url: `http://${hostname}:${info.port}`,
        async close() {
          await gateway.close();
          await new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          });
        },
      });
    });
    server.once('error', reject);
  });
}
