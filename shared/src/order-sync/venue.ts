/**
 * Comparing like with like. A venue fills orders on its own time (the sim on whatever adapter call
 * comes first after a bar is stored, sync-orders' own reads included), so the account read now may hold
 * a fill Weaver has not booked yet, or Weaver may have booked one the account read a moment ago did not
 * show. sync-orders therefore reads the venue's holdings first, books every fill the venue reports after
 * that, reads the books, and reads the holdings once more: when the two readings agree, nothing filled
 * at the venue between them, so the books hold exactly the fills the first reading shows — except fills
 * of an order whose submission is still being recorded, which the next run finds booked.
 */
import type { ExchangeAdapter } from '../exchanges/types.ts';
import { eq, isZero } from '../money/index.ts';
import type { PipelineContext } from '../pipeline/context.ts';
import { type SyncResult, syncOpenOrders } from '../pipeline/record-trades.ts';
import type { Account } from '../schemas/index.ts';
import { type Books, readBooks } from './books.ts';

/** Readings of the venue tried before a run gives up comparing (a venue that fills all the time). */
export const READ_ATTEMPTS = 3;

export interface Holdings {
  account: Account;
  /** Non-zero quantity per symbol. */
  positions: Map<string, string>;
}

/** The venue's positions, then its account: sequential reads, so a fill between them shows as a change. */
async function readHoldings(adapter: ExchangeAdapter): Promise<Holdings> {
  const positions = await adapter.getPositions();
  const account = await adapter.getAccount();
  return {
    account,
    positions: new Map(positions.filter((p) => !isZero(p.qty)).map((p) => [p.symbol, p.qty])),
  };
}

/** Same cash and same quantities: no fill happened between the two readings (prices may move). */
function sameHoldings(a: Holdings, b: Holdings): boolean {
  if (!eq(a.account.cash, b.account.cash) || a.positions.size !== b.positions.size) return false;
  for (const [symbol, qty] of a.positions) {
    const other = b.positions.get(symbol);
    if (other === undefined || !eq(qty, other)) return false;
  }
  return true;
}

export interface VenueView {
  /** The reading the books are compared with. */
  venue: Holdings;
  /** The books after every fill the venue reported up to that reading was booked. */
  books: Books;
  /** True when a later reading agreed with `venue`: the comparison is like with like. */
  settled: boolean;
  /** How often the venue's holdings were read (2 when nothing filled meanwhile). */
  readings: number;
  /** What the order syncs between the readings booked. */
  synced: SyncResult[];
}

/** Reads venue and books until a reading of the venue is confirmed by the next (at most READ_ATTEMPTS times). */
export async function readVenueAndBooks(
  ctx: PipelineContext,
  exchange: string,
  adapter: ExchangeAdapter,
  limit: number,
): Promise<VenueView> {
  const synced: SyncResult[] = [];
  let venue = await readHoldings(adapter);
  let books: Books | undefined;
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    synced.push(await syncOpenOrders(ctx, { exchange, apply: true, limit }));
    books = await readBooks(ctx.sql, exchange);
    const again = await readHoldings(adapter);
    if (sameHoldings(venue, again)) return { venue, books, settled: true, readings: attempt + 1, synced };
    venue = again;
  }
  return { venue, books: books!, settled: false, readings: READ_ATTEMPTS + 1, synced };
}
