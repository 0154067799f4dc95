import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closeBus, MemoryBus, setBus } from '../../src/bus/index.ts';
import { defineFunction, invokeHandler } from '../../src/runtime/index.ts';
import type { EventEnvelope } from '../../src/schemas/index.ts';
import { useTestDatabase } from '../../src/testing/index.ts';

describe('a failed run is reported as functions.failed (what error notifications hang on)', () => {
  const tdb = useTestDatabase();
  const bus = new MemoryBus('tfail');
  const seen: EventEnvelope[] = [];
  bus.subscribe('functions.failed', (e) => {
    seen.push(e);
  });
  afterAll(() => closeBus());

  const failing = (name: string) =>
    defineFunction({
      name,
      input: z.object({}),
      async run() {
        throw new Error('exchange unreachable: ECONNRESET');
      },
    });

  it('a 5xx run publishes one event naming the function, the run and the error', async () => {
    setBus(bus);
    const res = await invokeHandler(failing('place-order'), {
      body: {},
      headers: { 'x-correlation-id': 'corr-fail' },
    });
    expect(res.status).toBe(500);
    const [row] = await tdb.sql<
      { event_id: string; payload: { functionName: string; runId: number; error: string } }[]
    >`
      SELECT event_id, payload FROM events WHERE type = 'functions.failed'`;
    const [run] = await tdb.sql<{ id: number }[]>`SELECT id FROM function_runs WHERE outcome = 'error'`;
    expect(row).toEqual({
      event_id: `functions.failed:${run.id}`,
      payload: { functionName: 'place-order', runId: run.id, error: 'exchange unreachable: ECONNRESET' },
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((e) => e.correlationId)).toEqual(['corr-fail']);
  });

  it('each 5xx run reports once; a 4xx is not a failure; notify never reports itself', async () => {
    setBus(bus);
    const again = await invokeHandler(failing('place-order'), { body: { x: 1 }, headers: {} });
    expect(again.status).toBe(500);
    const bad = await invokeHandler(failing('generate-signals'), { body: '{oops' });
    expect(bad.status).toBe(400);
    await invokeHandler(failing('notify'), { body: {} });
    const rows =
      await tdb.sql`SELECT payload->>'functionName' AS fn FROM events WHERE type = 'functions.failed' ORDER BY id`;
    expect(rows.map((r) => r.fn)).toEqual(['place-order', 'place-order']);
  });

  it('an unreachable bus delays the answer by at most the bound and still answers 500', async () => {
    setBus({
      prefix: 'x',
      publish: () => new Promise(() => {}),
      subscribe: () => ({ unsubscribe() {} }),
      close: async () => {},
    } as never);
    const started = Date.now();
    const res = await invokeHandler(failing('record-trade'), { body: {} });
    expect(res.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
