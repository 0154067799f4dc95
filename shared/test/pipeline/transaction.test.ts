/**
 * The order path's transactions (db/transaction.ts): BEGIN travels with the first statement, COMMIT
 * with the last, a checkpoint commits a claim and begins the submit in one write — and none of it may
 * run a statement outside its transaction or commit half of one.
 */
import type { Sql } from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { sendNow, transaction } from '../../src/db/transaction.ts';
import { useTestDatabase } from '../../src/testing/index.ts';

const t = useTestDatabase();

beforeAll(async () => {
  await t.sql`CREATE TABLE probe (seq bigserial PRIMARY KEY, label text UNIQUE, xid bigint)`;
});

/** A repository-style call: its statement is sent a microtask or two after the call. */
async function insert(sql: Sql, label: string): Promise<number> {
  const [row] = await sql<{ seq: number }[]>`
    INSERT INTO probe (label, xid) VALUES (${label}, txid_current()) RETURNING seq`;
  return row.seq;
}

const rows = (prefix: string) =>
  t.sql<{ label: string; xid: number; seq: number }[]>`
    SELECT label, xid::float8 AS xid, seq FROM probe WHERE label LIKE ${`${prefix}%`} ORDER BY seq`;

describe('transaction', () => {
  it('runs every statement, the first included, in one transaction, and commits with the last', async () => {
    await transaction(t.sql, async (tx, control) => {
      await insert(tx, 'a-first');
      await Promise.all([insert(tx, 'a-second'), insert(tx, 'a-third'), control.commit()]);
    });
    const got = await rows('a-');
    expect(got.map((r) => r.label)).toEqual(['a-first', 'a-second', 'a-third']);
    expect(new Set(got.map((r) => r.xid)).size).toBe(1);
  });

  it('commits nothing when a statement sent with the commit fails', async () => {
    await insert(t.sql, 'b-taken');
    const run = transaction(t.sql, async (tx, control) => {
      await insert(tx, 'b-one');
      await Promise.all([insert(tx, 'b-two'), insert(tx, 'b-taken'), control.commit()]);
    });
    await expect(run).rejects.toThrow(/duplicate key/);
    expect((await rows('b-')).map((r) => r.label)).toEqual(['b-taken']);
  });

  it('rolls back when the body throws', async () => {
    const run = transaction(t.sql, async (tx) => {
      await insert(tx, 'c-one');
      throw new Error('changed my mind');
    });
    await expect(run).rejects.toThrow('changed my mind');
    expect(await rows('c-')).toEqual([]);
  });

  it('refuses a statement issued after the commit (it would run outside the transaction)', async () => {
    const late = async (tx: Sql): Promise<void> => {
      await new Promise((r) => setTimeout(r, 20));
      await insert(tx, 'd-late');
    };
    const run = transaction(t.sql, async (tx, control) => {
      await insert(tx, 'd-early');
      await Promise.all([late(tx), control.commit()]);
    });
    await expect(run).rejects.toThrow(/after the transaction ended/);
    expect((await rows('d-')).map((r) => r.label)).toEqual(['d-early']);
  });

  it('refuses to commit ahead of a statement issued but not yet sent, and rolls back', async () => {
    const run = transaction(t.sql, async (tx, control) => {
      await insert(tx, 'i-early');
      // Issued, but never awaited: postgres.js would only send it once awaited.
      tx`INSERT INTO probe (label) VALUES ('i-never')`;
      await control.commit();
    });
    await expect(run).rejects.toThrow(/not sent before COMMIT/);
    expect(await rows('i-')).toEqual([]);
  });

  it('a checkpoint commits what came before; what follows is a new transaction', async () => {
    const run = transaction(t.sql, async (tx, control) => {
      await insert(tx, 'e-claim');
      const committed = control.checkpoint();
      await insert(tx, 'e-submit');
      await committed;
      throw new Error('the venue refused');
    });
    await expect(run).rejects.toThrow('the venue refused');
    expect((await rows('e-')).map((r) => r.label)).toEqual(['e-claim']);

    await transaction(t.sql, async (tx, control) => {
      await insert(tx, 'f-claim');
      const committed = control.checkpoint();
      await insert(tx, 'f-submit');
      await committed;
    });
    const got = await rows('f-');
    expect(got.map((r) => r.label)).toEqual(['f-claim', 'f-submit']);
    expect(got[0].xid).not.toBe(got[1].xid);
  });

  it('a checkpoint with a statement not yet sent is refused', async () => {
    const run = transaction(t.sql, async (tx, control) => {
      const pending = insert(tx, 'g-pending');
      await control.checkpoint();
      await pending;
    });
    await expect(run).rejects.toThrow(/not yet sent/);
    expect(await rows('g-')).toEqual([]);
  });

  it('sent() orders two repository calls sent together: the second runs behind the first', async () => {
    const seen = await transaction(t.sql, async (tx, control) => {
      const first = insert(tx, 'j-first');
      await control.sent();
      const [, [row]] = await Promise.all([
        first,
        tx<{ n: number }[]>`SELECT count(*)::int AS n FROM probe WHERE label = 'j-first'`,
      ]);
      return row.n;
    });
    expect(seen).toBe(1);
  });

  it('sendNow puts a statement on the wire ahead of those issued after it', async () => {
    await transaction(t.sql, async (tx) => {
      const first = sendNow(tx`INSERT INTO probe (label, xid) VALUES ('h-first', txid_current())`);
      await insert(tx, 'h-second');
      await first;
    });
    expect((await rows('h-')).map((r) => r.label)).toEqual(['h-first', 'h-second']);
  });
});
