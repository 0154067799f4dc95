import type { Sql } from 'postgres';
import { db } from '../db/client.ts';
import { logger } from '../log/index.ts';
import { WEAVER_METRICS } from './catalogue.ts';
import type { Labels } from './exposition.ts';

type CounterName = typeof WEAVER_METRICS.exchangeErrors.name | typeof WEAVER_METRICS.exchangeRetries.name;

/**
 * Adds `by` to a persisted counter (see 0500_operations.sql), in the process's database unless `sql` is
 * given. For events no row records already, such as a retried exchange call. Never throws, not even
 * without a database: a metric must not fail the work it measures.
 */
export async function incrementCounter(name: CounterName, labels: Labels, by = 1, sql?: Sql): Promise<void> {
  try {
    const q = sql ?? db();
    await q`
      INSERT INTO metric_counters (name, labels, value) VALUES (${name}, ${q.json(labels)}, ${by})
      ON CONFLICT (name, labels) DO UPDATE SET value = metric_counters.value + EXCLUDED.value, updated_at = now()`;
  } catch (err) {
    logger().debug({ metric: name, err: (err as Error).message }, 'could not increment a counter');
  }
}

/**
 * An exchange call was retried: call from a retry policy's onRetry (see exchanges/resilience.ts).
 * `operation` is the kind of call (submit, order, bars, account), never an id: labels must stay few.
 */
export const countExchangeRetry = (exchange: string, operation: string, sql?: Sql): Promise<void> =>
  incrementCounter(WEAVER_METRICS.exchangeRetries.name, { exchange, operation }, 1, sql);

/** An exchange call failed for good; `code` is the adapter's error code (rate_limited, unavailable, …). */
export const countExchangeError = (
  exchange: string,
  operation: string,
  code: string,
  sql?: Sql,
): Promise<void> =>
  incrementCounter(WEAVER_METRICS.exchangeErrors.name, { exchange, operation, code }, 1, sql);
