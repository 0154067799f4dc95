import type { Sql } from 'postgres';

/** What a transaction's body may do besides running statements. */
export interface TransactionControl {
  /**
   * Sends COMMIT behind every statement issued so far, without waiting for their answers: the commit
   * travels with the transaction's last statements, one round trip fewer. Nothing may follow. A
   * statement before it that failed has aborted the transaction, and the server rolls back instead
   * (the failure is thrown where that statement is awaited).
   */
  commit(): Promise<void>;
  /**
   * Sends COMMIT and BEGIN now: what was issued so far is committed before anything that follows
   * (e.g. a claim before the venue hears of it), and statements issued after this call run in a new
   * transaction (`next`) on the same connection, with no round trip of their own. Every statement
   * issued before must already have been sent (awaited, or `sent()`): a pending one would end up on
   * the wrong side. Await the result before relying on the commit.
   */
  checkpoint(next?: TransactionOptions): Promise<void>;
  /**
   * Resolves once every statement issued so far is on its way to the server (not answered): a
   * statement issued after it runs after them — in one round trip, yet in order, even when both come
   * from repository calls (each of which sends its statement only after its own awaits).
   */
  sent(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * false: COMMIT does not wait for the WAL to reach disk (PostgreSQL's asynchronous commit, set for
   * this transaction only). An fsync costs milliseconds on a busy disk; the price is that a PostgreSQL
   * crash may lose this transaction's last fraction of a second — never a partial one, and never one
   * that a later synchronous commit was ordered after (WAL is flushed in order). Only for work that is
   * re-derived after such a loss (from the venue, from bars, by the reconcile sweep). Default true.
   */
  synchronousCommit?: boolean;
  /**
   * true: a read-only transaction whose statements all see one snapshot (REPEATABLE READ), so reads
   * sent together agree with each other however writers interleave with them.
   */
  snapshot?: boolean;
}

/**
 * Microtask turns a statement issued by a repository call may take to reach the connection: postgres.js
 * sends a query once it is awaited (a turn) and after one more turn of its own. A statement still
 * unsent after this many turns waits on something else (I/O): committing ahead of it would run it
 * outside the transaction, so the commit refuses instead.
 */
const SEND_TURNS = 8;

interface PendingQuery {
  executed: boolean;
}

/**
 * A transaction that spends no round trip on BEGIN, and none on COMMIT when the body ends with
 * `control.commit()`. postgres.js's `sql.begin` waits for BEGIN's answer before the first statement and
 * for the last statement's answer before COMMIT; on the order path, where every round trip is latency,
 * those are two wasted trips per transaction. Here BEGIN goes out on a reserved connection and the
 * statements follow it in the same write; the server runs them in order, inside the transaction.
 *
 * Statements issued together (Promise.all) are pipelined on the connection and run in the order they
 * were sent — which, for two repository calls, is not guaranteed to be the order of the calls (each
 * sends after its own awaits). Where order matters (a lock before the reads it protects), send the
 * first with `sendNow`, or await it before issuing the second. Commits when `fn` resolves (unless it
 * committed itself), rolls back when it throws.
 */
export async function transaction<T>(
  sql: Sql,
  fn: (tx: Sql, control: TransactionControl) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const conn = await sql.reserve();
  let open = true;
  // Set once COMMIT or ROLLBACK is on its way: a statement issued later would run outside the
  // transaction (or on the connection's next user), so it is refused instead.
  let ended = false;
  // Every statement issued through tx, to tell when all have been sent; queries passed into another
  // as fragments are never sent themselves.
  let issued: PendingQuery[] = [];
  const fragments = new WeakSet<object>();
  const tx = new Proxy(conn, {
    apply(target, thisArg, args: unknown[]) {
      const strings = args[0] as { raw?: unknown } | undefined;
      const statement = !!strings && Array.isArray(strings.raw);
      if (statement && ended) throw new Error('statement issued after the transaction ended');
      const made = Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
      if (statement) {
        for (const a of args.slice(1)) if (a instanceof Promise) fragments.add(a);
        issued.push(made as PendingQuery);
      }
      return made;
    },
  }) as unknown as Sql;
  const unsent = (): number => {
    issued = issued.filter((q) => !q.executed && !fragments.has(q));
    return issued.length;
  };
  /** Waits until every statement issued so far has been handed to the connection. */
  const allSent = async (what: string): Promise<void> => {
    for (let turn = 0; unsent() > 0; turn++) {
      if (turn === SEND_TURNS) throw new Error(`a statement was not sent before ${what}`);
      await null;
    }
  };
  /** Sends `then` behind every statement issued so far. */
  const behindIssued = async (then: () => Promise<unknown>): Promise<void> => {
    await allSent('COMMIT; not committing');
    await then();
  };
  /** BEGIN (and the commit mode), sent now: on the wire before any statement that follows. */
  const beginWith = (o: TransactionOptions): Promise<unknown> => {
    const begun = sendNow(
      conn.unsafe(o.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN'),
    );
    if (o.synchronousCommit !== false) return begun;
    return Promise.all([begun, sendNow(conn.unsafe('SET LOCAL synchronous_commit = off'))]);
  };
  const begin = beginWith(options);
  begin.catch(() => {});
  const control: TransactionControl = {
    commit: () =>
      behindIssued(() => {
        open = false;
        ended = true;
        return sendNow(conn.unsafe('COMMIT'));
      }),
    sent: () => allSent('the next one'),
    checkpoint: async (next = {}) => {
      if (unsent() > 0) throw new Error('checkpoint with a statement not yet sent; await it first');
      await Promise.all([sendNow(conn.unsafe('COMMIT')), beginWith(next)]);
    },
  };
  try {
    const result = await fn(tx, control);
    await begin;
    ended = true;
    if (open) await conn.unsafe('COMMIT');
    return result;
  } catch (err) {
    ended = true;
    if (open) await conn.unsafe('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    ended = true;
    conn.release();
  }
}

/**
 * Sends a query now, without waiting for its answer, so that statements issued after it follow it on
 * the connection (postgres.js otherwise sends a query only once it is awaited). Its failure is still
 * thrown where it is awaited; one never awaited (the transaction failed earlier) is not an unhandled
 * rejection.
 */
export function sendNow<Q extends Promise<unknown> & { execute(): unknown }>(query: Q): Q {
  query.execute();
  query.catch(() => {});
  return query;
}

/**
 * Runs `fn` on one connection of the pool, outside any transaction: statements it issues together
 * are pipelined there — one round trip and one server process — instead of spread over several
 * connections (as many server processes to wake on a busy machine).
 */
export async function onOneConnection<T>(sql: Sql, fn: (conn: Sql) => Promise<T>): Promise<T> {
  const conn = await sql.reserve();
  try {
    return await fn(conn as unknown as Sql);
  } finally {
    conn.release();
  }
}
