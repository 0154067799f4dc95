import type { Sql } from 'postgres';
import { logger } from '../log/index.ts';
import { WEAVER_METRICS } from './catalogue.ts';
import type { HistogramSample, Labels, MetricDefinition, MetricFamily, Sample } from './exposition.ts';

type Row = Record<string, unknown>;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

function labelsOf(def: MetricDefinition, row: Row, rename: Record<string, string> = {}): Labels {
  const labels: Labels = {};
  for (const l of def.labelNames) labels[l] = str(row[rename[l] ?? l]);
  return labels;
}

function family(
  def: MetricDefinition,
  rows: Row[],
  value: string,
  rename: Record<string, string> = {},
): MetricFamily {
  const samples: Sample[] = rows.map((r) => ({ labels: labelsOf(def, r, rename), value: num(r[value]) }));
  return { ...def, type: def.type as 'counter' | 'gauge', samples };
}

/** Sums `value` over rows that share the definition's labels (several statuses fold into one series). */
function summed(def: MetricDefinition, rows: Row[], value: string, keep: (r: Row) => boolean): MetricFamily {
  const by = new Map<string, Sample>();
  for (const r of rows) {
    if (!keep(r)) continue;
    const labels = labelsOf(def, r);
    const key = JSON.stringify(labels);
    const s = by.get(key) ?? { labels, value: 0 };
    s.value += num(r[value]);
    by.set(key, s);
  }
  return { ...def, type: def.type as 'counter' | 'gauge', samples: [...by.values()] };
}

/**
 * A histogram computed by Postgres in one pass: `source` is a query yielding the label columns and `d`
 * (seconds). The bucket bounds are constants of the catalogue, never input, so writing them into the
 * SQL text is safe.
 */
async function histogram(sql: Sql, def: MetricDefinition, source: string): Promise<MetricFamily> {
  const buckets = def.buckets ?? [];
  const labels = def.labelNames.map((l) => `"${l}"`).join(', ');
  const filters = buckets.map((b, i) => `count(*) FILTER (WHERE d <= ${Number(b)}) AS b${i}`).join(', ');
  const rows = await sql.unsafe<Row[]>(
    `SELECT ${labels ? `${labels}, ` : ''}${filters}, coalesce(sum(d), 0)::float8 AS sum, count(*) AS count
     FROM (${source}) AS src ${labels ? `GROUP BY ${labels}` : ''}`,
  );
  const samples: HistogramSample[] = rows
    .filter((r) => num(r.count) > 0)
    .map((r) => ({
      labels: labelsOf(def, r),
      buckets: buckets.map((_, i) => num(r[`b${i}`])),
      sum: num(r.sum),
      count: num(r.count),
    }));
  return { ...def, type: 'histogram', buckets, samples };
}

const M = WEAVER_METRICS;
const FINAL_LIST = ['filled', 'canceled', 'expired', 'replaced', 'rejected', 'failed'];

/** Each collector reads one area; a failing one is reported by weaver_metrics_collector_up, not fatal. */
export const COLLECTORS: Record<string, (sql: Sql) => Promise<MetricFamily[]>> = {
  async orders(sql) {
    const rows = await sql<Row[]>`
      SELECT strategy, symbol, side, status,
             count(*) AS n,
             count(*) FILTER (WHERE submitted_at IS NOT NULL OR exchange_order_id IS NOT NULL) AS submitted
      FROM orders GROUP BY strategy, symbol, side, status`;
    const isFinal = (r: Row) => FINAL_LIST.includes(str(r.status));
    return [
      summed(M.ordersSubmitted, rows, 'submitted', () => true),
      summed(M.ordersFilled, rows, 'n', (r) => r.status === 'filled'),
      summed(M.ordersRejected, rows, 'n', (r) => r.status === 'rejected' || r.status === 'failed'),
      summed(M.ordersOpen, rows, 'n', (r) => !isFinal(r)),
    ];
  },

  async signals(sql) {
    const rows = await sql<Row[]>`
      SELECT strategy, symbol, side, status, count(*) AS n FROM signals GROUP BY strategy, symbol, side, status`;
    return [family(M.signals, rows, 'n')];
  },

  async fills(sql) {
    const rows = await sql<Row[]>`
      SELECT o.strategy, f.symbol, f.side, count(*) AS n
      FROM fills f JOIN orders o ON o.id = f.order_id GROUP BY o.strategy, f.symbol, f.side`;
    const latency = await histogram(
      sql,
      M.fillLatency,
      `SELECT o.exchange, greatest(0, extract(epoch FROM f.created_at - o.submitted_at))::float8 AS d
       FROM fills f JOIN orders o ON o.id = f.order_id WHERE o.submitted_at IS NOT NULL`,
    );
    return [family(M.fills, rows, 'n'), latency];
  },

  async positions(sql) {
    const trades = await sql<
      Row[]
    >`SELECT strategy, symbol, count(*) AS n FROM trades GROUP BY strategy, symbol`;
    // Unrealized P&L marks each position at the newest stored close of its strategy's timeframe (a
    // primary-key lookup); a book without a strategy row (manual) falls back to any timeframe.
    const positions = await sql<Row[]>`
      SELECT p.strategy, p.symbol, p.qty::float8 AS qty, p.realized_pnl::float8 AS realized,
             CASE WHEN p.qty = 0 OR last.close IS NULL THEN 0
                  ELSE ((last.close - p.avg_price::float8) * p.qty::float8) END AS unrealized
      FROM positions p
      LEFT JOIN strategies s ON s.name = p.strategy
      LEFT JOIN LATERAL (
        SELECT b.close FROM bars b
        WHERE b.symbol = p.symbol AND (s.timeframe IS NULL OR b.timeframe = s.timeframe)
        ORDER BY b.ts DESC LIMIT 1
      ) last ON p.qty <> 0`;
    return [
      family(M.trades, trades, 'n'),
      family(M.realizedPnl, positions, 'realized'),
      family(M.unrealizedPnl, positions, 'unrealized'),
      family(M.positionQty, positions, 'qty'),
    ];
  },

  async account(sql) {
    const rows = await sql<Row[]>`
      SELECT DISTINCT ON (exchange) exchange, currency, cash::float8 AS cash, equity::float8 AS equity,
             buying_power::float8 AS buying_power, coalesce(day_pnl, 0)::float8 AS day_pnl,
             extract(epoch FROM now() - at)::float8 AS age
      FROM account_snapshots ORDER BY exchange, at DESC`;
    return [
      family(M.equity, rows, 'equity'),
      family(M.cash, rows, 'cash'),
      family(M.buyingPower, rows, 'buying_power'),
      family(M.dayPnl, rows, 'day_pnl'),
      family(M.snapshotAge, rows, 'age'),
    ];
  },

  async backtests(sql) {
    const rows = await sql<Row[]>`SELECT status, count(*) AS n FROM backtests GROUP BY status`;
    const duration = await histogram(
      sql,
      M.backtestDuration,
      `SELECT status, extract(epoch FROM finished_at - started_at)::float8 AS d
       FROM backtests WHERE finished_at IS NOT NULL AND started_at IS NOT NULL`,
    );
    return [family(M.backtests, rows, 'n'), duration];
  },

  async counters(sql) {
    const names = [M.exchangeErrors.name, M.exchangeRetries.name];
    const rows = await sql<{ name: string; labels: Record<string, string>; value: number }[]>`
      SELECT name, labels, value FROM metric_counters WHERE name IN ${sql(names)}`;
    return [M.exchangeErrors, M.exchangeRetries].map((d) =>
      family(
        d,
        rows.filter((r) => r.name === d.name).map((r) => ({ ...r.labels, value: r.value })),
        'value',
      ),
    );
  },

  async backlog(sql) {
    const [r] = await sql<Row[]>`
      SELECT (SELECT count(*) FROM signals WHERE status = 'new') AS signals_without_orders,
             (SELECT count(*) FROM orders WHERE status NOT IN ${sql(FINAL_LIST)}) AS orders_not_final,
             (SELECT count(*) FROM fills f WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.fill_id = f.id))
               AS fills_without_trades`;
    const kinds = ['signals_without_orders', 'orders_not_final', 'fills_without_trades'];
    return [
      {
        ...M.sweepBacklog,
        type: 'gauge',
        samples: kinds.map((k) => ({ labels: { kind: k }, value: num(r[k]) })),
      },
    ];
  },

  async halts(sql) {
    const rows = await sql<Row[]>`
      SELECT DISTINCT scope, 1 AS on FROM trading_halts
      WHERE cleared_at IS NULL AND (until IS NULL OR until > now())`;
    return [family(M.tradingHalted, rows, 'on')];
  },

  async functions(sql) {
    const rows = await sql<Row[]>`
      SELECT function_name AS function, outcome, count(*) AS n FROM function_runs GROUP BY function_name, outcome`;
    const duration = await histogram(
      sql,
      M.functionRunDuration,
      `SELECT function_name AS function, extract(epoch FROM finished_at - started_at)::float8 AS d
       FROM function_runs WHERE finished_at IS NOT NULL`,
    );
    return [family(M.functionRuns, rows, 'n'), duration];
  },

  async events(sql) {
    const rows = await sql<Row[]>`SELECT type, count(*) AS n FROM events GROUP BY type`;
    return [family(M.events, rows, 'n')];
  },

  async notifications(sql) {
    const rows = await sql<Row[]>`
      SELECT channel, kind, status, count(*) AS n FROM notifications GROUP BY channel, kind, status`;
    return [family(M.notifications, rows, 'n')];
  },
};

/** Runs every collector; one that fails (a missing table, a timeout) leaves the others' series intact. */
export async function collect(sql: Sql): Promise<MetricFamily[]> {
  const started = performance.now();
  const names = Object.keys(COLLECTORS);
  const results = await Promise.allSettled(names.map((n) => COLLECTORS[n](sql)));
  const families: MetricFamily[] = [];
  const up: Sample[] = [];
  results.forEach((r, i) => {
    up.push({ labels: { collector: names[i] }, value: r.status === 'fulfilled' ? 1 : 0 });
    if (r.status === 'fulfilled') families.push(...r.value);
    else
      logger().warn({ collector: names[i], err: (r.reason as Error)?.message }, 'metrics collector failed');
  });
  families.push({ ...M.collectorUp, type: 'gauge', samples: up });
  families.push({
    ...M.scrapeDuration,
    type: 'gauge',
    samples: [{ labels: {}, value: (performance.now() - started) / 1000 }],
  });
  return families;
}
