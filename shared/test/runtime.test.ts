import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeEnvelope } from '../src/bus/index.ts';
import { resetEnv } from '../src/config/index.ts';
import { setDb } from '../src/db/client.ts';
import { defineFunction, HttpError, invokeHandler } from '../src/runtime/index.ts';
import { createTestDatabase, useTestDatabase } from '../src/testing/index.ts';

const echo = defineFunction({
  name: 'echo-test',
  input: z.object({ qty: z.number().positive(), symbol: z.string().min(1) }),
  async run(input, ctx) {
    if (input.symbol === 'NOPE')
      throw new HttpError(422, 'unknown_symbol', 'no such symbol', { symbol: 'unknown' });
    if (input.symbol === 'BOOM') throw new Error('exploded');
    return { ...input, correlationId: ctx.correlationId, trigger: ctx.event?.type ?? 'http' };
  },
});

describe('defineFunction: the OpenFaaS handler contract', () => {
  const t = useTestDatabase();

  it('answers the parsed input, records one run, and carries the caller correlation id', async () => {
    const r = await invokeHandler(echo, {
      body: { qty: 2, symbol: 'ACME' },
      headers: { 'x-correlation-id': 'corr-1' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ qty: 2, symbol: 'ACME', correlationId: 'corr-1', trigger: 'http' });
    expect(r.headers['x-correlation-id']).toBe('corr-1');
    const [run] = await t.sql<{ outcome: string; status_code: number; trigger: string }[]>`
      SELECT outcome, status_code, trigger FROM function_runs WHERE correlation_id = 'corr-1'`;
    expect(run).toEqual({ outcome: 'ok', status_code: 200, trigger: 'http' });
  });

  it('takes a text body (no content-type) as JSON, and names a bad field in a 400', async () => {
    expect((await invokeHandler(echo, { body: '{"qty":1,"symbol":"A"}' })).status).toBe(200);
    const bad = await invokeHandler(echo, { body: { qty: -1, symbol: '' } });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { fields: Record<string, string> } }).error.fields).toEqual({
      qty: 'Too small: expected number to be >0',
      symbol: 'Too small: expected string to have >=1 characters',
    });
    const notJson = await invokeHandler(echo, { body: '{"qty":' });
    expect(notJson.status).toBe(400);
    expect((notJson.body as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  it('unwraps an event envelope from a connector, validating its payload', async () => {
    const e = makeEnvelope('signals.created', { signalIds: [1] }, { correlationId: 'corr-e' });
    const r = await invokeHandler(echo, { body: JSON.stringify(e) });
    // signals.created's payload is not echo's input: the 400 names the payload's fields
    expect(r.status).toBe(400);
    expect(Object.keys((r.body as { error: { fields: object } }).error.fields)).toContain('payload.qty');
    const broken = await invokeHandler(echo, { body: { ...e, payload: { signalIds: 'x' } } });
    expect(broken.status).toBe(400);
    expect((broken.body as { error: { code: string } }).error.code).toBe('invalid_event');
  });

  it('refuses a body over the limit with 413, HttpErrors keep their status, anything else is a 500', async () => {
    const huge = await invokeHandler(echo, { body: { qty: 1, symbol: 'A', pad: 'x'.repeat(200_000) } });
    expect(huge.status).toBe(413);
    const unknown = await invokeHandler(echo, { body: { qty: 1, symbol: 'NOPE' } });
    expect(unknown).toMatchObject({
      status: 422,
      body: { error: { code: 'unknown_symbol', fields: { symbol: 'unknown' } } },
    });
    const boom = await invokeHandler(echo, { body: { qty: 1, symbol: 'BOOM' } });
    expect(boom).toMatchObject({ status: 500, body: { error: { code: 'internal', message: 'exploded' } } });
    const outcomes = await t.sql<{ outcome: string }[]>`
      SELECT outcome FROM function_runs WHERE function_name = 'echo-test' AND status_code IN (422, 500) ORDER BY id`;
    expect(outcomes.map((o) => o.outcome)).toEqual(['rejected', 'error']);
  });

  it('migrates an empty database on its cold start (deployed functions need no manual step)', async () => {
    const empty = await createTestDatabase();
    try {
      await empty.sql`DROP SCHEMA public CASCADE`;
      await empty.sql`CREATE SCHEMA public`;
      setDb(empty.sql);
      const r = await invokeHandler(echo, { body: { qty: 1, symbol: 'A' } });
      expect(r.status).toBe(200);
      const [{ n }] = await empty.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM schema_migrations`;
      expect(n).toBeGreaterThan(0);

      await empty.sql`DROP SCHEMA public CASCADE`;
      await empty.sql`CREATE SCHEMA public`;
      process.env.WEAVER_AUTO_MIGRATE = 'false';
      resetEnv();
      const other = await createTestDatabase();
      await other.sql`DROP SCHEMA public CASCADE`;
      await other.sql`CREATE SCHEMA public`;
      setDb(other.sql);
      const off = await invokeHandler(echo, { body: { qty: 1, symbol: 'A' } });
      expect(off.status).toBe(500);
      expect(JSON.stringify(off.body)).toContain('function_runs');
      await other.drop();
    } finally {
      delete process.env.WEAVER_AUTO_MIGRATE;
      resetEnv();
      setDb(t.sql);
      await empty.drop();
    }
  });
});
