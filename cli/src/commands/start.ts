import { parseArgs } from 'node:util';
import { ConfigError } from '@weaver/shared/config';
import { logger } from '@weaver/shared/log';
import type { Command } from '../main.ts';
import { startRunner } from '../runner/runner.ts';
import { StackError } from '../runner/stack.ts';

const usage = `usage: weaver start [--port N] [--host ADDR] [--root DIR] [--state-dir DIR] [--no-web-build]

Runs Weaver locally as faasd would: every function in stack.yml at http://localhost:8080/function/<name>,
the API at /api, the web UI at /, cron schedules and topic subscriptions.
  DATABASE_URL unset → embedded PostgreSQL with its data in .weaver/pg
  NATS_URL unset     → in-process bus
  no Alpaca keys     → demo: simulated exchange on an accelerated clock (WEAVER_DEMO_SPEED, default 30)
--root names the folder holding stack.yml (default: this repository); --state-dir where the runner keeps
its embedded database, API token and demo clock (default <root>/.weaver). --no-web-build serves the
status page instead of building a missing web/dist.
Ctrl-C (or SIGTERM) stops schedules, waits for running invocations and shuts down cleanly.`;

const start: Command = {
  name: 'start',
  summary: 'run the whole product locally (functions, API, web UI, schedules, topics)',
  usage,
  async run(argv) {
    let values: {
      port?: string;
      host?: string;
      root?: string;
      'state-dir'?: string;
      'no-web-build'?: boolean;
    };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          port: { type: 'string' },
          host: { type: 'string' },
          root: { type: 'string' },
          'state-dir': { type: 'string' },
          'no-web-build': { type: 'boolean' },
        },
      }));
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n${usage}\n`);
      return 2;
    }
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
      process.stderr.write(`--port must be a port number, got "${values.port}"\n`);
      return 2;
    }
    let runner: Awaited<ReturnType<typeof startRunner>>;
    try {
      runner = await startRunner({
        port,
        host: values.host,
        root: values.root,
        stateDir: values['state-dir'],
        buildWeb: !values['no-web-build'],
        banner: (t) => process.stdout.write(`${t}\n`),
      });
    } catch (e) {
      if (e instanceof StackError || e instanceof ConfigError) {
        process.stderr.write(`weaver start: ${e.message}\n`);
        return 1;
      }
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        process.stderr.write(
          `weaver start: port ${port ?? process.env.PORT ?? 8080} is in use; choose another with --port or PORT\n`,
        );
        return 1;
      }
      logger().fatal({ err: (e as Error).message, stack: (e as Error).stack }, 'start failed');
      return 1;
    }
    const log = logger().child({ component: 'runner' });
    return new Promise<number>((done) => {
      let signals = 0;
      const stop = (signal: NodeJS.Signals): void => {
        if (++signals > 1) {
          log.warn({ signal }, 'second signal: exiting without waiting');
          process.exit(1);
        }
        log.info({ signal }, 'stopping');
        runner.stop().then(
          () => {
            log.info('stopped');
            // Everything the runner opened is closed; a client some module opened on its own (a pool, a
            // NATS connection) must not keep the process alive after a clean shutdown.
            setTimeout(() => process.exit(0), 1000).unref();
            done(0);
          },
          (e) => {
            log.error({ err: (e as Error).message }, 'shutdown failed');
            done(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};

export default start;
