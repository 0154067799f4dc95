/**
 * A sweep fanned out as OpenFaaS async invocations of run-backtest. The gateway here is a stand-in on
 * 127.0.0.1 doing what OpenFaaS's does for POST /async-function/<name>: answer 202 with an X-Call-Id,
 * queue the request, have a queue worker call the function (this handler, unchanged), and post the
 * answer to X-Callback-Url. It delivers one request twice, as NATS Streaming's at-least-once queue may.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenFaasDispatcher, runSweep } from '@weaver/shared/backtest';
import { compareBacktests, listBacktests, upsertBars } from '@weaver/shared/db';
import { invokeHandler } from '@weaver/shared/runtime';
import { useTestDatabase } from '@weaver/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_SYMBOL, generatedBars, smaCrossoverReference } from './generated-bars.ts';
import handler from './handler.ts';

const body = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => {
      s += c;
    });
    req.on('end', () => resolve(s));
  });

class FakeGateway {
  server!: Server;
  url = '';
  accepted: { name: string; body: string; callback: string | undefined }[] = [];
  callbacks: { status: string | undefined; callId: string | undefined; body: unknown }[] = [];
  refuse = new Set<number>();
  private queue: Promise<void> = Promise.resolve();
  private duplicated = false;

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const text = await body(req);
      if (req.url === '/callback') {
        this.callbacks.push({
          status: req.headers['x-function-status'] as string | undefined,
          callId: req.headers['x-call-id'] as string | undefined,
          body: JSON.parse(text),
        });
        res.writeHead(200).end();
        return;
      }
      const m = /^\/async-function\/([a-z0-9-]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        res.writeHead(404).end('not found');
        return;
      }
      const parsed = JSON.parse(text) as { backtestId: number };
      if (this.refuse.has(parsed.backtestId)) {
        res.writeHead(500).end('queue unavailable');
        return;
      }
      const callback = req.headers['x-callback-url'] as string | undefined;
      const callId = (req.headers['x-call-id'] as string | undefined) ?? `call-${this.accepted.length}`;
      this.accepted.push({ name: m[1], body: text, callback });
      res.writeHead(202, { 'x-call-id': callId }).end();
      // The queue worker: one invocation at a time, and the first one delivered twice.
      const times = this.duplicated ? 1 : 2;
      this.duplicated = true;
      for (let i = 0; i < times; i++) {
        this.queue = this.queue.then(async () => {
          const answer = await invokeHandler(handler, {
            body: parsed,
            headers: { 'content-type': 'application/json', 'x-call-id': callId },
            path: '/',
          });
          if (callback) {
            await fetch(callback, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'x-function-status': String(answer.status),
                'x-call-id': callId,
              },
              body: JSON.stringify(answer.body),
            });
          }
        });
      }
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await this.queue;
    await new Promise((r) => this.server.close(r));
  }
}

describe('sweeps through OpenFaaS async invocations', () => {
  const tdb = useTestDatabase();
  const gw = new FakeGateway();
  const G = GENERATED_SYMBOL;
  beforeAll(async () => {
    await upsertBars(tdb.sql, generatedBars());
    await gw.start();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('invokes run-backtest once per run, waits for the rows it writes, and ranks them', async () => {
    const dispatcher = new OpenFaasDispatcher({
      gatewayUrl: gw.url,
      callbackUrl: `${gw.url}/callback`,
      pollMs: 20,
    });
    const sweep = await runSweep(
      { sql: tdb.sql },
      {
        strategies: [{ strategy: 'sma-crossover', grid: { fast: [5, 10], slow: [30, 50] } }],
        symbols: [G],
        sizing: { type: 'fixed_qty', qty: 100 },
      },
      { dispatcher },
    );
    expect(sweep).toMatchObject({ status: 'completed', total: 4, done: 4, failed: 0 });
    expect(gw.accepted).toHaveLength(4);
    expect(gw.accepted.every((a) => a.name === 'run-backtest' && a.callback === `${gw.url}/callback`)).toBe(
      true,
    );
    const runs = (await listBacktests(tdb.sql, { sweepId: sweep.id })).items;
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // Each run's result is the one worked out by hand on the same bars.
    for (const [fast, slow] of [
      [5, 30],
      [5, 50],
      [10, 30],
      [10, 50],
    ]) {
      expect(runs.find((r) => r.params.fast === fast && r.params.slow === slow)?.endEquity).toBeCloseTo(
        smaCrossoverReference(generatedBars(), fast, slow, 100, 100000).endEquity,
        6,
      );
    }
    // The duplicated delivery ran nothing twice: five answers, all about completed runs, four distinct.
    await expect.poll(() => gw.callbacks.length).toBe(5);
    expect(gw.callbacks.every((c) => c.status === '200')).toBe(true);
    expect(new Set(gw.callbacks.map((c) => (c.body as { id: number }).id)).size).toBe(4);
    for (const r of await compareBacktests(
      tdb.sql,
      runs.map((x) => x.id),
    )) {
      const [rows] =
        await tdb.sql`SELECT count(*)::int AS n FROM backtest_trades WHERE backtest_id = ${r.id}`;
      expect(rows.n).toBe((r.metrics?.trades ?? 0) + (r.metrics?.openTrades ?? 0));
    }
  });

  it('marks a run the gateway refuses as failed, with the reason, and finishes the rest', async () => {
    const [{ next }] = await tdb.sql`SELECT coalesce(max(id), 0)::int + 1 AS next FROM backtests`;
    gw.refuse.add(next);
    const sweep = await runSweep(
      { sql: tdb.sql },
      { strategies: [{ strategy: 'macd', grid: { signal: [5, 9] } }], symbols: [G] },
      { dispatcher: new OpenFaasDispatcher({ gatewayUrl: gw.url, pollMs: 20 }) },
    );
    expect(sweep).toMatchObject({ status: 'completed', total: 2, done: 2, failed: 1 });
    const runs = (await listBacktests(tdb.sql, { sweepId: sweep.id })).items;
    const refused = runs.find((r) => r.id === next);
    expect(refused).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/gateway refused the invocation: 500 queue unavailable/),
    });
    expect(runs.find((r) => r.id !== next)?.status).toBe('completed');
  });
});
