import type { Sql } from 'postgres';
import { logger } from '../log/index.ts';
import { WEAVER_METRICS } from './catalogue.ts';
import type { Labels } from './exposition.ts';

type CounterName = typeof WEAVER_METRICS.exchangeErrors.name | typeof WEAVER_METRICS.exchangeRetries.name;

/**
 * Adds `by` to a persisted counter (see 0500_operations.sql). For events a database row does not already
 * record, such as a retried exchange call. Never throws: a metric must not fail the work it measures.
 */
export async function incrementCounter(sql: Sql, name: CounterName, labels: Labels, by = 1): Promise<void> {
  try {
    await sql`
      INSERT INTO metric_counters (name, labels, value) VALUES (${name}, ${sql.json(labels)}, ${by})
      ON CONFLICT (name, labels) DO UPDATE SET value = metric_counters.value + EXCLUDED.value, updated_at = now()`;
  } catch (err) {
    logger().warn({ metric: name, err: (err as Error).message }, 'could not increment a counter');
  }
}

/** An exchange call was retried (call from a retry policy's onRetry). */
export const countExchangeRetry = (sql: Sql, exchange: string, operation: string): Promise<void> =>
  incrementCounter(sql, WEAVER_METRICS.exchangeRetries.name, { exchange, operation });

/** An exchange call failed for good; `code` is the HTTP status or the adapter's error code. */
export const countExchangeError = (
  sql: Sql,
  exchange: string,
  operation: string,
  code: string,
): Promise<void> => incrementCounter(sql, WEAVER_METRICS.exchangeErrors.name, { exchange, operation, code });
