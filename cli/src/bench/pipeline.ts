/**
 * Bar → trade-recorded latency through the real pipeline: the real functions (fetch-bars,
 * generate-signals, place-order, record-trade, notify) hosted and wired exactly as `weaver start` wires
 * them from stack.yml, on real NATS (private subject prefix and stream) and real PostgreSQL (a fresh
 * database), trading on the simulated exchange.
 *
 * The benchmark drives the clock: each step moves the (frozen) process clock past the close of the next
 * 1-minute bar and invokes fetch-bars, as cron-connector would, then waits until the work it set off
 * has settled. Its strategy signals every other bar, so each signal becomes one market order, filled at
 * the next bar's open, and one trade.
 *
 * What is measured, per signal, with receipt times taken by a separate NATS subscriber:
 *   signal leg  from the `bars.fetched` carrying the signal's bar to the `orders.updated` that announces
 *               the order placed for it (generate-signals → signals.created → place-order → exchange);
 *   fill leg    from the `orders.updated` announcing that order's fill to the `trades.recorded` carrying
 *               its trade (record-trade → trades.recorded);
 *   pipeline    the sum: bar to trade recorded, less the time a market order waits at the exchange for
 *               the next bar to open (a minute of market time, not of Weaver's).
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsBus } from '@weaver/shared/bus';
import { resetEnv } from '@weaver/shared/config';
import { createStrategyIfMissing } from '@weaver/shared/db';
import { setLogDestination } from '@weaver/shared/log';
import { setStrategiesDir } from '@weaver/shared/strategies';
import type { Benchmark } from '../commands/bench.ts';
import { PROJECT_ROOT, startRunner } from '../runner/runner.ts';
import { freshDatabase } from './_db.ts';

const SYMBOL = 'ACME';
const MINUTE = 60_000;

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

const pipeline: Benchmark = {
  name: 'pipeline',
  async run({ quick, log }) {
    const base = process.env.DATABASE_URL;
    const natsUrl = process.env.NATS_URL;
    if (!base) throw new Error('DATABASE_URL is not set');
    if (!natsUrl) throw new Error('NATS_URL is not set: this benchmark runs through a real NATS server');
    const signalsWanted = quick ? 100 : 1000;

    const id = randomBytes(4).toString('hex');
    const prefix = `bench${id}`;
    const stream = `BENCH_${id}`;
    const db = await freshDatabase(base, 'pipeline');
    const state = mkdtempSync(join(tmpdir(), 'weaver-bench-pipeline-'));
    chmodSync(state, 0o755);
    const saved = { ...process.env };
    // The functions log as they would in production (pino, JSON), into a sink: stdout carries the results.
    setLogDestination(() => {}, 'info');

    // A frozen clock at `t`: the pipeline's "now" only moves when the benchmark says so.
    const setClock = (t: number): void => {
      process.env.WEAVER_CLOCK = `${t}@${Date.now()}x0.000001`;
    };
    const start = Math.floor((Date.now() - 2 * 86_400_000) / (4 * MINUTE)) * 4 * MINUTE;
    setClock(start + 1000);
    Object.assign(process.env, {
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      WEAVER_SUBJECT_PREFIX: prefix,
      WEAVER_STREAM: stream,
      WEAVER_EXCHANGE: 'sim',
      WEAVER_LIVE_TRADING: 'false',
    });
    resetEnv();
    setStrategiesDir(join(dirname(fileURLToPath(import.meta.url)), 'strategies'));
    await createStrategyIfMissing(db.sql, {
      name: 'bench',
      module: 'bench-alternate',
      params: {},
      enabled: true,
      symbols: [SYMBOL],
      timeframe: '1Min',
      exchange: 'sim',
      sizing: { type: 'fixed_qty', qty: '1' },
    });

    const observer = await NatsBus.connect({ url: natsUrl, prefix, stream, name: 'weaver-bench-observer' });
    const barSeen = new Map<number, number>();
    const orderSeen = new Map<string, number>();
    const tradeSeen = new Map<number, number>();
    observer.subscribe('>', (e) => {
      const at = performance.now();
      if (e.type === 'bars.fetched') {
        const p = e.payload as { latest: string | null };
        if (p.latest) barSeen.set(Date.parse(p.latest), at);
      } else if (e.type === 'orders.updated') {
        for (const o of (e.payload as { orders: { id: number; status: string }[] }).orders) {
          const key = `${o.id}:${o.status === 'filled' ? 'filled' : 'placed'}`;
          if (!orderSeen.has(key)) orderSeen.set(key, at);
        }
      } else if (e.type === 'trades.recorded') {
        for (const t of (e.payload as { trades: { id: number }[] }).trades)
          if (!tradeSeen.has(t.id)) tradeSeen.set(t.id, at);
      }
    });

    const runner = await startRunner({
      root: PROJECT_ROOT,
      stateDir: state,
      port: 0,
      demo: false,
      cron: false,
      buildWeb: false,
    });
    try {
      // Settled: every signal handled, every fill booked and every event seen, and no function still
      // running (so one step's stragglers never queue ahead of the next step's messages).
      const settled = async (step: number): Promise<void> => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const [s] = await db.sql<{ pending: number; orders: number; filled: number; trades: number }[]>`
            SELECT (SELECT count(*) FROM signals WHERE status = 'new')::int AS pending,
                   (SELECT count(*) FROM orders)::int AS orders,
                   (SELECT count(*) FROM orders WHERE status = 'filled')::int AS filled,
                   (SELECT count(*) FROM trades)::int AS trades`;
          const seenOrders = [...orderSeen.keys()].filter((k) => k.endsWith(':placed')).length;
          const seenFills = [...orderSeen.keys()].filter((k) => k.endsWith(':filled')).length;
          if (
            runner.host.busy === 0 &&
            s.pending === 0 &&
            s.trades === s.filled &&
            seenOrders >= s.orders &&
            seenFills >= s.filled &&
            tradeSeen.size >= s.trades
          ) {
            return;
          }
          if (Date.now() > deadline)
            throw new Error(
              `step ${step} did not settle: ${JSON.stringify({ ...s, seenOrders, seenFills, seenTrades: tradeSeen.size })}`,
            );
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      const fetchBars = async (): Promise<void> => {
        const res = await runner.host.invoke('fetch-bars', {
          method: 'POST',
          path: '/',
          query: '',
          headers: { 'content-length': '0' },
          body: Buffer.alloc(0),
        });
        if (res.status !== 200) throw new Error(`fetch-bars answered ${res.status}: ${res.body.toString()}`);
      };

      // Step 0 loads the initial history; then one new bar per step, two steps per signal.
      await fetchBars();
      await settled(0);
      const xacts = async (): Promise<number> => {
        const [r] = await db.sql<{ n: number }[]>`
          SELECT (xact_commit + xact_rollback)::int AS n FROM pg_stat_database WHERE datname = current_database()`;
        return r.n;
      };
      const xactsBefore = await xacts();
      // Two bars per signal; a signal the exchange or the risk checks turn down is made up with more bars.
      const maxSteps = signalsWanted * 3;
      for (let step = 1; tradeSeen.size < signalsWanted && step <= maxSteps; step++) {
        setClock(start + step * MINUTE + 1000);
        await fetchBars();
        await settled(step);
        if (step % 200 === 0) log(`${step} bars, ${tradeSeen.size} trades`);
      }

      const rows = await db.sql<{ trade: number; order_id: number; bar_time: Date }[]>`
        SELECT t.id AS trade, o.id AS order_id, s.bar_time
        FROM trades t JOIN orders o ON o.id = t.order_id JOIN signals s ON s.id = o.signal_id
        ORDER BY t.id`;
      const total: number[] = [];
      const signalLeg: number[] = [];
      const fillLeg: number[] = [];
      for (const r of rows) {
        const bar = barSeen.get(r.bar_time.getTime());
        const placed = orderSeen.get(`${r.order_id}:placed`);
        const filled = orderSeen.get(`${r.order_id}:filled`);
        const trade = tradeSeen.get(r.trade);
        if (bar === undefined || placed === undefined || filled === undefined || trade === undefined) {
          throw new Error(`trade ${r.trade}: an event of its chain was not observed`);
        }
        signalLeg.push(placed - bar);
        fillLeg.push(trade - filled);
        total.push(placed - bar + (trade - filled));
      }
      if (total.length < signalsWanted) {
        const why = await db.sql`
          SELECT status, status_reason, side, count(*)::int AS n FROM signals GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 8`;
        throw new Error(
          `only ${total.length} of ${signalsWanted} signals became trades: ${JSON.stringify(why)}`,
        );
      }
      for (const a of [total, signalLeg, fillLeg]) a.sort((x, y) => x - y);
      const perFunction = await db.sql<{ function_name: string; n: number; p50: number; p99: number }[]>`
        SELECT function_name, count(*)::int AS n,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)::float8 AS p50,
          percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)::float8 AS p99
        FROM function_runs WHERE finished_at IS NOT NULL GROUP BY 1 ORDER BY 1`;
      for (const f of perFunction) {
        log(
          `${f.function_name.padEnd(17)} ${String(f.n).padStart(5)} runs, p50 ${round2(f.p50)} ms, p99 ${round2(f.p99)} ms (function_runs)`,
        );
      }
      await new Promise((r) => setTimeout(r, 1500)); // PostgreSQL publishes its counters lazily
      log(
        `≈ ${Math.round((await xacts()) - xactsBefore) / total.length} database transactions per signal (two bars)`,
      );
      log(
        `${total.length} signals → trades; signal leg p50 ${round2(percentile(signalLeg, 50))} ms, fill leg p50 ${round2(percentile(fillLeg, 50))} ms`,
      );
      return {
        pipeline_p50_ms: round2(percentile(total, 50)),
        pipeline_p99_ms: round2(percentile(total, 99)),
        pipeline_signal_to_order_p99_ms: round2(percentile(signalLeg, 99)),
        pipeline_fill_to_trade_p99_ms: round2(percentile(fillLeg, 99)),
        pipeline_signals: total.length,
      };
    } finally {
      await runner.stop();
      await observer.close();
      const nc = await connect({ servers: natsUrl, name: 'weaver-bench-cleanup' });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
      await nc.close();
      await db.drop();
      rmSync(state, { recursive: true, force: true });
      setStrategiesDir(undefined);
      process.env = saved;
      resetEnv();
    }
  },
};

export default pipeline;
