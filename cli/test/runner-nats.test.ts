/**
 * The runner with NATS_URL set: the bus is real NATS (JetStream stream for audit/replay), topics are
 * core subscriptions as nats-connector makes them. Private subject prefix and stream per run.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { makeEnvelope, NatsBus } from '@weaver/shared/bus';
import { createTestDatabase, natsUrl, type TestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runner, startRunner } from '../src/runner/runner.ts';
import { captureLogs, FIXTURE_ROOT, tempStateDir, waitFor } from './helpers.ts';

describe.skipIf(!natsUrl())('runner on real NATS', () => {
  let runner: Runner;
  let tdb: TestDatabase;
  let state: ReturnType<typeof tempStateDir>;
  const id = randomBytes(4).toString('hex');
  const prefix = `t${id}`;
  const stream = `T_${id}`;
  const logs = captureLogs();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    state = tempStateDir('nats');
    process.env.DATABASE_URL = tdb.url;
    process.env.NATS_URL = natsUrl() ?? '';
    process.env.WEAVER_SUBJECT_PREFIX = prefix;
    process.env.WEAVER_STREAM = stream;
    delete process.env.WEAVER_CLOCK;
    runner = await startRunner({ root: FIXTURE_ROOT, stateDir: state.dir, port: 0 });
  });

  afterAll(async () => {
    await runner?.stop();
    const nc = await connect({ servers: natsUrl() ?? '' });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
    await nc.close();
    await tdb?.drop();
    state?.remove();
  });

  it('uses NATS with the private prefix and stream', () => {
    expect(runner.bus).toBeInstanceOf(NatsBus);
    expect(runner.bus.prefix).toBe(prefix);
  });

  it('fires the cron function, whose event reaches the topic function over NATS and lands in the stream', async () => {
    const onBars = await waitFor('on-bars to run from a NATS message', async () => {
      const [row] = await tdb.sql<{ trigger: string; outcome: string }[]>`
        SELECT trigger, outcome FROM function_runs WHERE function_name = 'on-bars' AND outcome = 'ok' LIMIT 1`;
      return row;
    });
    expect(onBars.trigger).toBe('event:bars.fetched');
    const nc = await connect({ servers: natsUrl() ?? '' });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(stream);
      expect(info.config.subjects).toEqual([`${prefix}.>`]);
      expect(info.state.messages).toBeGreaterThan(0);
    } finally {
      await nc.close();
    }
  });

  it('delivers a message published by another process to the bound function, and drops an invalid one', async () => {
    const other = await NatsBus.connect({ url: natsUrl() ?? '', prefix, stream });
    try {
      const envelope = makeEnvelope(
        'bars.fetched',
        { exchange: 'sim', timeframe: '1Min', symbols: ['GLOBEX'], count: 3, latest: null },
        { correlationId: `external-${id}` },
      );
      await other.publish(envelope);
      // a message that is not an envelope never reaches a function (dropped with a warning)
      other.nc.publish(`${prefix}.bars.fetched`, 'not json');
      const row = await waitFor('the externally published event to be handled', async () => {
        const [r] = await tdb.sql<{ outcome: string }[]>`
          SELECT outcome FROM function_runs
          WHERE function_name = 'on-bars' AND correlation_id = ${`external-${id}`} AND outcome <> 'running'`;
        return r;
      });
      expect(row.outcome).toBe('ok');
      await waitFor('the invalid message to be dropped', async () =>
        logs.some((l) => l.includes('dropped invalid event')),
      );
    } finally {
      await other.close();
    }
  });
});
