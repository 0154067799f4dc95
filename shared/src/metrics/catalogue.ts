import type { MetricDefinition } from './exposition.ts';

/** Bounds for the latency of a fill after its order was submitted (seconds). */
export const FILL_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;
/** Bounds for function runs (seconds): most are milliseconds, backtests minutes. */
export const RUN_DURATION_BUCKETS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
] as const;
/** Bounds for a backtest from start to finish (seconds). */
export const BACKTEST_DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;

const def = (
  name: string,
  type: MetricDefinition['type'],
  help: string,
  labelNames: readonly string[],
  buckets?: readonly number[],
): MetricDefinition => ({ name, type, help, labelNames, ...(buckets ? { buckets } : {}) });

/**
 * Every series Weaver exports at the gateway's /metrics. Functions run as separate processes under faasd,
 * so in-process counters would reset with each replica; these are derived from the database (the truth)
 * at scrape time instead, and counters stay monotonic because the rows they count are never deleted.
 */
export const WEAVER_METRICS = {
  ordersSubmitted: def('weaver_orders_submitted_total', 'counter', 'Orders sent to an exchange.', [
    'strategy',
    'symbol',
    'side',
  ]),
  ordersFilled: def('weaver_orders_filled_total', 'counter', 'Orders completely filled.', [
    'strategy',
    'symbol',
    'side',
  ]),
  ordersRejected: def(
    'weaver_orders_rejected_total',
    'counter',
    'Orders the exchange rejected or refused (status rejected or failed).',
    ['strategy', 'symbol', 'side'],
  ),
  ordersOpen: def('weaver_orders_open', 'gauge', 'Orders not yet in a final state.', ['strategy', 'symbol']),
  signals: def('weaver_signals_total', 'counter', 'Signals strategies emitted, by what became of them.', [
    'strategy',
    'symbol',
    'side',
    'status',
  ]),
  fills: def('weaver_fills_total', 'counter', 'Fills received from exchanges.', [
    'strategy',
    'symbol',
    'side',
  ]),
  fillLatency: def(
    'weaver_fill_latency_seconds',
    'histogram',
    'Time from submitting an order to recording its fill.',
    ['exchange'],
    FILL_LATENCY_BUCKETS,
  ),
  trades: def('weaver_trades_total', 'counter', 'Trades recorded from fills.', ['strategy', 'symbol']),
  realizedPnl: def('weaver_realized_pnl', 'gauge', 'Realized profit and loss, in account currency.', [
    'strategy',
    'symbol',
  ]),
  unrealizedPnl: def(
    'weaver_unrealized_pnl',
    'gauge',
    'Unrealized profit and loss at the latest stored close, in account currency.',
    ['strategy', 'symbol'],
  ),
  positionQty: def('weaver_position_qty', 'gauge', 'Signed position size.', ['strategy', 'symbol']),
  equity: def('weaver_equity', 'gauge', 'Account equity at the latest snapshot.', ['exchange', 'currency']),
  cash: def('weaver_cash', 'gauge', 'Account cash at the latest snapshot.', ['exchange', 'currency']),
  buyingPower: def('weaver_buying_power', 'gauge', 'Buying power at the latest snapshot.', [
    'exchange',
    'currency',
  ]),
  dayPnl: def('weaver_day_pnl', 'gauge', "Today's profit and loss reported at the latest snapshot.", [
    'exchange',
    'currency',
  ]),
  snapshotAge: def(
    'weaver_account_snapshot_age_seconds',
    'gauge',
    'Age of the latest account snapshot (stale equity means sync is not running).',
    ['exchange'],
  ),
  backtests: def('weaver_backtests_total', 'counter', 'Backtests by status.', ['status']),
  backtestDuration: def(
    'weaver_backtest_duration_seconds',
    'histogram',
    'Wall time of finished backtests.',
    ['status'],
    BACKTEST_DURATION_BUCKETS,
  ),
  exchangeErrors: def('weaver_exchange_errors_total', 'counter', 'Exchange calls that failed.', [
    'exchange',
    'operation',
    'code',
  ]),
  exchangeRetries: def('weaver_exchange_retries_total', 'counter', 'Exchange calls retried.', [
    'exchange',
    'operation',
  ]),
  sweepBacklog: def(
    'weaver_sweep_backlog',
    'gauge',
    'Work the reconcile sweep would pick up: signals without orders, orders not final, fills without trades.',
    ['kind'],
  ),
  tradingHalted: def('weaver_trading_halted', 'gauge', '1 while a trading halt is active for the scope.', [
    'scope',
  ]),
  functionRuns: def('weaver_function_runs_total', 'counter', 'Function invocations recorded, by outcome.', [
    'function',
    'outcome',
  ]),
  functionRunDuration: def(
    'weaver_function_run_duration_seconds',
    'histogram',
    'Duration of finished function runs.',
    ['function'],
    RUN_DURATION_BUCKETS,
  ),
  events: def('weaver_events_total', 'counter', 'Events published on the bus (audit log).', ['type']),
  notifications: def('weaver_notifications_total', 'counter', 'Notifications sent to channels.', [
    'channel',
    'kind',
    'status',
  ]),
  collectorUp: def(
    'weaver_metrics_collector_up',
    'gauge',
    '1 if the collector read the database on this scrape, 0 if it failed.',
    ['collector'],
  ),
  scrapeDuration: def('weaver_metrics_scrape_duration_seconds', 'gauge', 'Time this scrape took.', []),
} as const satisfies Record<string, MetricDefinition>;

export type WeaverMetric = keyof typeof WEAVER_METRICS;

/**
 * Series the OpenFaaS gateway itself exports (faas gateway/metrics): invocations by function and status
 * code, invocation durations, invocations started, and replicas. Dashboards may use these beside Weaver's.
 */
export const OPENFAAS_GATEWAY_SERIES = [
  'gateway_function_invocation_total',
  'gateway_function_invocation_started',
  'gateway_functions_seconds_bucket',
  'gateway_functions_seconds_sum',
  'gateway_functions_seconds_count',
  'gateway_service_count',
] as const;
