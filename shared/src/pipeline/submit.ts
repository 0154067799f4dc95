/**
 * Claim-then-submit, the one way an order reaches a venue (signals, a person's orders, protective
 * orders): see place-orders.ts for the steps and why each is safe to repeat.
 */
import type { Sql } from 'postgres';
import { clock } from '../clock/index.ts';
import {
  claimOrder,
  getOrder,
  lockOrder,
  lockOrderByClientId,
  markSignal,
  type NewOrder,
  sendNow,
  type TransactionControl,
  transaction,
  updateOrder,
} from '../db/index.ts';
import { getExchange } from '../exchanges/configured.ts';
import { type ExchangeAdapter, ExchangeError, type ExchangeOrder } from '../exchanges/index.ts';
import { div, isZero } from '../money/index.ts';
import { checkOrderRisk, loadRiskState, type RiskCode } from '../risk/index.ts';
import type { ManualOrderResult, Order } from '../schemas/index.ts';
import { errorMessage, logOf, type PipelineContext } from './context.ts';
import { announceOrder, refreshOrder } from './record-trades.ts';
import { haltForDailyLoss } from './risk-events.ts';
import { foreignOrderReason, intentOf } from './venue-orders.ts';

export type PlaceOutcome = ManualOrderResult['outcome'];

/** Serialises risk check + claim across every worker: limits see each other's claims. */
const RISK_LOCK = 0x7269736b;

export interface Claim {
  intent: NewOrder;
  referencePrice: string;
  /** The book's position including open orders, for the risk check. */
  position: string;
}

export interface SubmitResult {
  outcome: PlaceOutcome;
  order: Order | null;
  reason?: string;
  /** The exchange reported fills already: book them now. */
  hasFills?: boolean;
}

/** Decides, inside the submit transaction and through `tx` only, that a claim must not be sent now. */
export type SubmitVeto = (order: Order, tx: Sql, exchange: ExchangeAdapter) => Promise<string | null>;

/** The outcome, and the order state to announce on orders.updated once the transaction committed. */
type Submitted = { result: SubmitResult; announce: Order | null };

/**
 * Step 2–3 of claim-then-submit, inside `tx`: lock the claimed row (another worker holding it is already
 * submitting), look the id up at the exchange unless this worker created the row, submit, and store the
 * answer (the caller announces it on orders.updated once committed). `beforeSubmit`
 * may veto a late submission (a signal gone stale meanwhile). `locked` is the row's lock when the
 * caller took it already; `claimCommitted`, when the claim's commit travelled ahead of that lock, is
 * confirmed before anything reaches the exchange.
 */
async function submitIn(
  ctx: PipelineContext,
  tx: Sql,
  control: TransactionControl,
  orderId: number,
  created: boolean,
  referencePrice: string | undefined,
  beforeSubmit?: SubmitVeto,
  locked?: Promise<Order | null>,
  claimCommitted?: Promise<void>,
): Promise<Submitted> {
  const log = logOf(ctx);
  const row = await (locked ?? lockOrder(tx, orderId));
  await claimCommitted;
  if (!row) return { result: { outcome: 'in_progress', order: null }, announce: null };
  if (row.status !== 'pending_submit') {
    if (row.signalId !== null) await markSignal(tx, row.signalId, 'ordered', null, { force: true });
    return { result: { outcome: 'exists', order: row }, announce: null };
  }
  /** Stores the row's new state, marks its signal and commits: one round trip for all three. */
  const settle = async (
    update: Parameters<typeof updateOrder>[2],
    signal: { status: 'ordered' | 'skipped' | 'rejected'; reason: string | null },
    result: (stored: Order) => SubmitResult,
  ): Promise<Submitted> => {
    const [stored] = await Promise.all([
      updateOrder(tx, row.id, update),
      row.signalId !== null
        ? markSignal(tx, row.signalId, signal.status, signal.reason, { force: true })
        : null,
      control.commit(),
    ]);
    return { result: result(stored), announce: stored };
  };
  const fail = (code: string, message: string, httpStatus: number | null): Promise<Submitted> =>
    settle(
      { status: 'failed', errorCode: code, errorMessage: message, detail: { code, message, httpStatus } },
      { status: 'rejected', reason: `exchange refused: ${code}: ${message}` },
      (stored) => ({ outcome: 'failed', order: stored, reason: `${code}: ${message}` }),
    );
  const exchange = await getExchange(row.exchange);
  // The symbol lets venues that index orders per symbol (CCXT) find a closed order too.
  let ex: ExchangeOrder | null = created
    ? null
    : await exchange.getOrderByClientId(row.clientOrderId, row.symbol);
  if (ex) {
    // Found after a crash or a redelivery: ours only if it is the order this row describes.
    const foreign = await foreignOrderReason(exchange, row, ex);
    if (foreign) return fail('duplicate_client_order_id', foreign, null);
  } else {
    const veto = beforeSubmit ? await beforeSubmit(row, tx, exchange) : null;
    if (veto) {
      return settle(
        { status: 'failed', errorCode: 'abandoned', errorMessage: veto },
        { status: 'skipped', reason: veto },
        (stored) => ({ outcome: 'skipped', order: stored, reason: veto }),
      );
    }
    try {
      ex = await exchange.submitOrder(intentOf(row, referencePrice));
    } catch (e) {
      if (e instanceof ExchangeError && e.code === 'duplicate_client_order_id') {
        // An earlier attempt may have landed (adopt it), or the id belongs to another order (fail).
        const found = await exchange.getOrderByClientId(row.clientOrderId, row.symbol);
        if (found) {
          const foreign = await foreignOrderReason(exchange, row, found);
          if (foreign) return fail('duplicate_client_order_id', foreign, e.status ?? null);
          ex = found;
        }
      }
      if (!ex) {
        const code = e instanceof ExchangeError ? e.code : 'unknown';
        const message = errorMessage(e);
        if (e instanceof ExchangeError && e.retryable) {
          // The exchange may or may not have it: keep the claim; the next attempt looks it up first.
          log.warn({ orderId: row.id, code, err: message }, 'submit not confirmed; will retry');
          const kept = await updateOrder(tx, row.id, {
            status: 'pending_submit',
            errorCode: code,
            errorMessage: message,
          });
          return { result: { outcome: 'retry', order: kept, reason: message }, announce: null };
        }
        return fail(code, message, e instanceof ExchangeError ? (e.status ?? null) : null);
      }
    }
  }
  const hasFills = !isZero(ex.filledQty);
  // Fills are booked by recordTrades, which moves the status along with them; until then a filled
  // order reads as accepted so it is never final without its fills.
  return settle(
    {
      status: hasFills ? 'accepted' : ex.status,
      exchangeOrderId: ex.id,
      submittedAt: ex.submittedAt,
      errorCode: null,
      errorMessage: null,
      detail: { exchangeStatus: ex.status, exchangeOrderId: ex.id, recovered: !created },
    },
    { status: 'ordered', reason: null },
    (stored) => ({ outcome: 'ordered', order: stored, hasFills }),
  );
}

/** Resumes an existing claim (a redelivery, a restart, the reconcile sweep) in its own transaction. */
export async function submitClaimed(
  ctx: PipelineContext,
  orderId: number,
  referencePrice: string | undefined,
  beforeSubmit?: SubmitVeto,
): Promise<SubmitResult> {
  // Asynchronous commit: see claimAndSubmit.
  const { result, announce } = await transaction(
    ctx.sql,
    (tx, control) => submitIn(ctx, tx, control, orderId, false, referencePrice, beforeSubmit),
    { synchronousCommit: false },
  );
  if (announce) await announceOrder(ctx, announce);
  return result;
}

export type ClaimOutcome =
  | { kind: 'rejected'; code: RiskCode; reason: string }
  | { kind: 'claimed'; order: Order; created: boolean; submit: SubmitResult };

/**
 * Claim-then-submit on one connection. Under the risk lock: if no row has the client order id, run the
 * risk checks and insert the claim. Then COMMIT (the claim is durable, the risk lock released) and, in
 * the same write, BEGIN the submit transaction that locks the row — no round trip between the two.
 * `accept` may refuse an existing claim before anything is sent (a manual id another book owns);
 * `veto` (for claims this worker did not create) may abandon a late one.
 */
export async function claimAndSubmit(
  ctx: PipelineContext,
  c: Claim,
  opts: {
    accept?: (order: Order, created: boolean) => void;
    veto?: SubmitVeto;
  } = {},
): Promise<ClaimOutcome> {
  const now = clock().now();
  // The claim must outlive a crash of this process before the venue hears of the order: a commit does.
  // Only a venue that would take a lost claim's id again as a new order (Binance: ids of closed orders
  // are free) needs it to outlive a PostgreSQL crash too (the disk); one that refuses any id it has
  // seen answers the retry with "duplicate", and the order is adopted.
  const venue = await getExchange(c.intent.exchange);
  const done = await transaction(
    ctx.sql,
    async (tx, control) => {
      // Sent first, so the risk state below is read under the lock; both travel in one round trip.
      const lock = sendNow(tx`SELECT pg_advisory_xact_lock(${RISK_LOCK})`);
      const state = await loadRiskState(tx, {
        strategy: c.intent.strategy,
        clientOrderId: c.intent.clientOrderId,
        now,
      });
      await lock;
      let claiming: Promise<{ order: Order; created: boolean }>;
      if (state.existingOrderId !== null) {
        claiming = getOrder(tx, state.existingOrderId).then((order) => ({ order: order!, created: false }));
      } else {
        const check = await checkOrderRisk(tx, state, {
          strategy: c.intent.strategy,
          symbol: c.intent.symbol,
          side: c.intent.side,
          qty: c.intent.qty ?? div(c.intent.notional!, c.referencePrice),
          price: c.referencePrice,
          position: c.position,
          now,
        });
        if (!check.verdict.ok) {
          const rejected = {
            kind: 'rejected' as const,
            code: check.verdict.code,
            reason: check.verdict.reason,
          };
          return { outcome: rejected, announce: null, breach: check.breach };
        }
        claiming = claimOrder(tx, c.intent);
      }
      // The claim, its COMMIT, the submit transaction's BEGIN and the row's lock travel in one round
      // trip, in that order. The submit's outcome need not wait for the disk: lost in a PostgreSQL
      // crash, the row is pending_submit again and the next attempt looks the order up first.
      claiming.catch(() => {}); // awaited below
      await control.sent();
      const committed = control.checkpoint({ synchronousCommit: false });
      const locked = lockOrderByClientId(tx, c.intent.clientOrderId);
      // Both awaited in submitIn, unless the claim failed first.
      committed.catch(() => {});
      locked.catch(() => {});
      const claimed = await claiming;
      opts.accept?.(claimed.order, claimed.created);
      const submitted = await submitIn(
        ctx,
        tx,
        control,
        claimed.order.id,
        claimed.created,
        c.referencePrice,
        claimed.created ? undefined : opts.veto,
        locked,
        committed,
      );
      const outcome: ClaimOutcome = { kind: 'claimed', ...claimed, submit: submitted.result };
      return { outcome, announce: submitted.announce, breach: null };
    },
    { synchronousCommit: venue.capabilities.uniqueClientOrderIds !== true },
  );
  if (done.breach) await haltForDailyLoss(ctx, done.breach);
  if (done.announce) await announceOrder(ctx, done.announce);
  return done.outcome;
}

/** After the submit: book fills the venue reported at once (a marketable order on a live venue). */
export async function finishSubmit(ctx: PipelineContext, r: SubmitResult): Promise<Order | null> {
  if (!r.order) return null;
  if (r.hasFills) return refreshOrder(ctx, r.order.id);
  return r.order;
}
