/** What Weaver's own books say about one venue: the side of the comparison that is not the exchange's. */
import type { Sql } from 'postgres';
import { FINAL_ORDER_STATUSES, type OrderStatus } from '../schemas/index.ts';

export interface Books {
  /** Net quantity booked per symbol (buys minus sells over every trade at the venue). */
  positions: Map<string, string>;
  /** Cash the trades moved: sells bring qty × price, buys cost it, fees always cost. */
  cashFlow: string;
  /**
   * Our orders at the venue that are not final yet, those still being submitted included; a position's
   * resting protective order is not counted (it rests as long as the position is open, and a fill of it
   * between two readings is caught as any other change is).
   */
  openOrders: number;
  /** Fills at the venue that no trade covers yet. */
  unbookedFills: number;
}

/** Reads the books at `exchange` as of one instant (one read-only snapshot for all four figures). */
export async function readBooks(sql: Sql, exchange: string): Promise<Books> {
  const final = [...FINAL_ORDER_STATUSES] as OrderStatus[];
  return (await sql.begin('isolation level repeatable read read only', async (txRaw) => {
    const tx = txRaw as unknown as Sql;
    const [positions, [flow], [open], [unbooked]] = await Promise.all([
      tx<{ symbol: string; qty: string }[]>`
        SELECT t.symbol, sum(CASE WHEN t.side = 'buy' THEN t.qty ELSE -t.qty END) AS qty
        FROM trades t JOIN orders o ON o.id = t.order_id
        WHERE o.exchange = ${exchange}
        GROUP BY t.symbol`,
      tx<{ flow: string | null }[]>`
        SELECT sum(CASE WHEN t.side = 'sell' THEN t.qty * t.price ELSE -(t.qty * t.price) END - t.fee) AS flow
        FROM trades t JOIN orders o ON o.id = t.order_id
        WHERE o.exchange = ${exchange}`,
      tx<{ n: number }[]>`
        SELECT count(*)::int AS n FROM orders
        WHERE exchange = ${exchange} AND status NOT IN ${tx(final)} AND NOT protective`,
      tx<{ n: number }[]>`
        SELECT count(*)::int AS n
        FROM fills f JOIN orders o ON o.id = f.order_id
        WHERE o.exchange = ${exchange} AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.fill_id = f.id)`,
    ]);
    return {
      positions: new Map(positions.map((r) => [r.symbol, r.qty])),
      cashFlow: flow?.flow ?? '0',
      openOrders: open?.n ?? 0,
      unbookedFills: unbooked?.n ?? 0,
    };
  })) as Books;
}
