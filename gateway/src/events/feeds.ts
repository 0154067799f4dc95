/**
 * Where the browser's event stream reads from, resumable at an id the browser kept:
 * - NATS: a JetStream ordered consumer on the stream capturing `<prefix>.>`; the id is the stream
 *   sequence, so a reconnect with Last-Event-ID n starts at n + 1 and misses nothing the stream still holds.
 * - in-process bus (the local runner without NATS_URL): the `events` audit log, id = events.id, walked in
 *   commit order (see migration 0400); bus messages only wake the reader up.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type Bus, NatsBus, parseEnvelope, subjectOf } from '@weaver/shared/bus';
import { logger } from '@weaver/shared/log';
import type { EventEnvelope, EventType } from '@weaver/shared/schemas';
import type { Sql } from 'postgres';
import { BatchQueue } from './queue.ts';

export interface FeedItem {
  id: string;
  envelope: EventEnvelope;
}

export interface Feed {
  mode: 'nats' | 'memory';
  /** The position the stream starts after: the client's Last-Event-ID, or the head when it sent none. */
  readyId: string;
  /** Events after the client's Last-Event-ID are no longer kept (or the id is from another stream). */
  gap: boolean;
  /** Items in order; [] when `timeoutMs` passed without any, null once the feed is closed. */
  take(timeoutMs: number): Promise<FeedItem[] | null>;
  close(): Promise<void>;
}

export interface FeedRequest {
  /** Last-Event-ID as the client sent it (validated by the caller: digits only), or null. */
  after: number | null;
  types: EventType[] | null;
}

export function openFeed(sql: Sql, bus: Bus, req: FeedRequest): Promise<Feed> {
  return bus instanceof NatsBus ? openStreamFeed(bus, req) : openAuditFeed(sql, bus, req);
}

async function openStreamFeed(bus: NatsBus, req: FeedRequest): Promise<Feed> {
  const jsm = await jetstreamManager(bus.nc);
  const { state } = await jsm.streams.info(bus.stream);
  let start = state.last_seq + 1;
  let readyId = state.last_seq;
  let gap = false;
  if (req.after !== null) {
    if (req.after > state.last_seq) {
      // An id this stream never issued: the stream was recreated. Start at the head and say so.
      gap = true;
    } else {
      start = req.after + 1;
      readyId = req.after;
      // Older events aged out of the stream: start at the oldest still kept and say so.
      gap = start < state.first_seq;
      if (gap) start = state.first_seq;
    }
  }
  const js = jetstream(bus.nc);
  // One subject filter works on every server; several (filter_subjects) need nats-server 2.10, so more
  // than one type is filtered here instead.
  const only = req.types?.length === 1 ? subjectOf(bus.prefix, req.types[0]) : `${bus.prefix}.>`;
  const wanted = req.types && req.types.length > 1 ? new Set<string>(req.types) : null;
  const consumer = await js.consumers.get(bus.stream, {
    filter_subjects: only,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, start),
  });
  const messages = await consumer.consume({ max_messages: 256 });
  const queue = new BatchQueue<FeedItem>();
  void (async () => {
    try {
      for await (const m of messages) {
        try {
          const envelope = parseEnvelope(m.data);
          if (!wanted || wanted.has(envelope.type)) queue.push({ id: String(m.seq), envelope });
        } catch (err) {
          logger().warn(
            { seq: m.seq, subject: m.subject, err: (err as Error).message },
            'event stream skipped an invalid event',
          );
        }
      }
    } catch (err) {
      logger().warn({ err: (err as Error).message }, 'event stream consumer ended');
    } finally {
      queue.close();
    }
  })();
  return {
    mode: 'nats',
    readyId: String(readyId),
    gap,
    take: (t) => queue.take(t),
    async close() {
      queue.close();
      await messages.close().catch(() => {});
    },
  };
}

interface AuditRow {
  id: number;
  txid: string;
  event_id: string;
  type: EventType;
  correlation_id: string;
  occurred_at: Date;
  payload: unknown;
}

const POLL_MS = 1000;

/**
 * The transaction id below which every transaction of this database has ended: rows with a lower txid
 * are all visible now, so the walk may pass them. Taken before the rows are read, from this database's
 * own in-progress transactions (a long transaction in another database must not hold the stream back),
 * and never above the next id to be assigned (a transaction that starts meanwhile gets a higher one).
 * When other roles' sessions hide their transaction ids, the cluster-wide snapshot xmin stands in.
 */
async function commitHorizon(sql: Sql): Promise<string> {
  const [row] = await sql<{ horizon: string }[]>`
    WITH s AS (SELECT pg_current_snapshot() AS snap),
    local AS (
      SELECT backend_xid, usename = current_user OR pg_has_role('pg_read_all_stats', 'MEMBER') AS seen
      FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
    )
    SELECT (CASE
      WHEN EXISTS (SELECT 1 FROM local WHERE NOT seen) THEN pg_snapshot_xmin(s.snap)
      ELSE least(pg_snapshot_xmax(s.snap), (
        SELECT min(x) FROM pg_snapshot_xip(s.snap) AS x
        WHERE (x::text::numeric % 4294967296)::int8 IN (
          SELECT backend_xid::text::int8 FROM local WHERE backend_xid IS NOT NULL)))
    END)::text AS horizon
    FROM s`;
  return row.horizon;
}

async function openAuditFeed(sql: Sql, bus: Bus, req: FeedRequest): Promise<Feed> {
  let cursor = { txid: '0', id: 0 };
  let gap = false;
  if (req.after === null) {
    const horizon = await commitHorizon(sql);
    const [head] = await sql<{ txid: string; id: number }[]>`
      SELECT txid::text, id FROM events WHERE txid < ${horizon}::xid8
      ORDER BY txid DESC, id DESC LIMIT 1`;
    if (head) cursor = head;
  } else {
    const [at] = await sql<
      { txid: string; id: number }[]
    >`SELECT txid::text, id FROM events WHERE id = ${req.after}`;
    if (at) cursor = at;
    else {
      const [before] = await sql<{ txid: string; id: number }[]>`
        SELECT txid::text, id FROM events WHERE id < ${req.after} ORDER BY id DESC LIMIT 1`;
      if (before) cursor = before;
      gap = true;
    }
  }
  const readyId = req.after === null ? String(cursor.id) : String(req.after);
  const queue = new BatchQueue<FeedItem>();
  let closed = false;
  let polling: Promise<void> | null = null;
  let again = false;

  const poll = async (): Promise<void> => {
    const horizon = await commitHorizon(sql);
    const rows = await sql<AuditRow[]>`
      SELECT id, txid::text, event_id, type, correlation_id, occurred_at, payload FROM events
      WHERE (txid, id) > (${cursor.txid}::xid8, ${cursor.id}::int8)
        AND txid < ${horizon}::xid8
        ${req.types ? sql`AND type = ANY(${req.types})` : sql``}
      ORDER BY txid, id
      LIMIT 500`;
    for (const r of rows) {
      cursor = { txid: r.txid, id: r.id };
      queue.push({
        id: String(r.id),
        envelope: {
          id: r.event_id,
          type: r.type,
          occurredAt: r.occurred_at.toISOString(),
          correlationId: r.correlation_id,
          payload: r.payload as never,
        },
      });
    }
    if (rows.length === 500) again = true;
  };
  // One poll at a time; a wake-up during a poll runs one more after it.
  const wake = (): void => {
    if (closed) return;
    if (polling) {
      again = true;
      return;
    }
    polling = poll()
      .catch((err) => logger().warn({ err: (err as Error).message }, 'event stream poll failed'))
      .finally(() => {
        polling = null;
        if (again) {
          again = false;
          wake();
        }
      });
  };
  const sub = bus.subscribe('>', () => {
    wake();
    // The publisher's transaction may commit a moment after its message: look again shortly.
    setTimeout(wake, 100).unref?.();
  });
  const timer = setInterval(wake, POLL_MS);
  timer.unref?.();
  wake();
  return {
    mode: 'memory',
    readyId,
    gap,
    take: (t) => queue.take(t),
    async close() {
      closed = true;
      clearInterval(timer);
      sub.unsubscribe();
      queue.close();
      await polling;
    },
  };
}
