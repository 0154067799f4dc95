/**
 * The gateway as the benchmark serves it: its own process (so the load generator does not share its
 * event loop), the process's own configuration (DATABASE_URL, DATABASE_POOL_MAX, WEAVER_API_TOKEN; no
 * NATS_URL → in-process bus; WEAVER_EXCHANGE → sim on the same database), @hono/node-server in front.
 * Prints `READY <url>` once listening; exits on SIGTERM. Named with a leading `_`: not a benchmark itself.
 */
import { createGateway } from '@weaver/gateway/app';
import { serveGateway } from '@weaver/gateway/serve';

const served = await serveGateway(createGateway());
process.stdout.write(`READY ${served.url}\n`);
process.on('SIGTERM', () => {
  void served.close().finally(() => process.exit(0));
});
