import type { Sql } from 'postgres';

/**
 * A transaction that spends no round trip on BEGIN. postgres.js's `sql.begin` waits for BEGIN's answer
 * before it sends the first statement; on the order path, where every round trip is latency, that is
 * one wasted trip per transaction. Here BEGIN goes out on a reserved connection and the statements `fn`
 * issues follow it in the same write: the server runs them in order, inside the transaction.
 *
 * Statements `fn` issues together (Promise.all) are pipelined on the connection and run in the order
 * they were sent — which, for two repository calls, is not guaranteed to be the order of the calls
 * (each dispatches after its own awaits). Where order matters (a lock before the reads it protects),
 * await the first before issuing the second. Commits when `fn` resolves, rolls back when it throws.
 */
export async function transaction<T>(sql: Sql, fn: (tx: Sql) => Promise<T>): Promise<T> {
  const conn = await sql.reserve();
  // execute() sends now: BEGIN is on the wire before any statement fn issues.
  const begin = conn.unsafe('BEGIN').execute();
  begin.catch(() => {}); // its failure surfaces through the statements after it, or below
  try {
    const result = await fn(conn as unknown as Sql);
    await begin;
    await conn.unsafe('COMMIT');
    return result;
  } catch (err) {
    await conn.unsafe('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    conn.release();
  }
}
