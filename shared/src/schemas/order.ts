import { z } from 'zod';
import { DecimalString, Id, IsoTime, PositiveDecimal, Side, Slug, TradingSymbol } from './common.ts';

export const OrderType = z.enum(['market', 'limit', 'stop', 'stop_limit', 'trailing_stop']);
export type OrderType = z.infer<typeof OrderType>;
export const TimeInForce = z.enum(['day', 'gtc', 'ioc', 'fok', 'opg', 'cls']);
export type TimeInForce = z.infer<typeof TimeInForce>;
/**
 * `oco` (one-cancels-other, an exit only): a take-profit limit at `limitPrice` and a stop at `stopPrice`
 * resting together for one quantity; whichever trades first cancels the other. Alpaca's vocabulary.
 */
export const OrderClass = z.enum(['simple', 'oco']);
export type OrderClass = z.infer<typeof OrderClass>;

/**
 * Order status lifecycle (Alpaca's vocabulary, which other venues map onto):
 *
 *   pending_submit ─▶ new/accepted ─▶ partially_filled ─▶ filled
 *         │                 │                 └──▶ canceled | expired
 *         └──▶ failed       └──▶ pending_cancel ─▶ canceled;  rejected | expired at any point
 *
 * `pending_submit` is ours: the row exists (so the client_order_id is claimed) but the exchange has not
 * confirmed it. `failed` is ours too: the exchange refused it before accepting (403, 422, ...).
 */
export const ORDER_STATUSES = [
  'pending_submit',
  'new',
  'accepted',
  'pending_new',
  'partially_filled',
  'filled',
  'done_for_day',
  'pending_cancel',
  'pending_replace',
  'canceled',
  'expired',
  'replaced',
  'rejected',
  'failed',
] as const;
export const OrderStatus = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatus>;

export const FINAL_ORDER_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'filled',
  'canceled',
  'expired',
  'replaced',
  'rejected',
  'failed',
]);
export const isFinalStatus = (s: OrderStatus): boolean => FINAL_ORDER_STATUSES.has(s);

/** Our client order ids: at most 48 chars of [A-Za-z0-9_-], accepted by Alpaca (128) and Binance (36 → we use 32). */
export const ClientOrderId = z
  .string()
  .min(1)
  .max(48)
  .regex(/^[A-Za-z0-9_-]+$/, { message: 'must be letters, digits, "_" or "-"' });

const orderIntentShape = {
  clientOrderId: ClientOrderId,
  /** The book the order belongs to: a strategy instance name, or "manual". */
  strategy: Slug,
  signalId: Id.nullable().default(null),
  symbol: TradingSymbol,
  side: Side,
  type: OrderType.default('market'),
  timeInForce: TimeInForce.default('day'),
  qty: PositiveDecimal.optional(),
  notional: PositiveDecimal.optional(),
  limitPrice: PositiveDecimal.optional(),
  stopPrice: PositiveDecimal.optional(),
  trailPercent: PositiveDecimal.optional(),
  /** Absent: a simple order. */
  orderClass: OrderClass.optional(),
  /** Reference price used for sizing and risk checks (the signal bar's close, or a quote). */
  referencePrice: PositiveDecimal.optional(),
};

interface OrderFields {
  type: OrderType;
  qty?: string;
  notional?: string;
  limitPrice?: string;
  stopPrice?: string;
  trailPercent?: string;
  orderClass?: OrderClass;
}

/** The rules every order request follows, whoever sends it: one of qty / notional, the prices its type needs. */
export function checkOrderFields(o: OrderFields, ctx: z.RefinementCtx): void {
  if ((o.qty === undefined) === (o.notional === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['qty'], message: 'exactly one of qty or notional is required' });
  }
  if ((o.type === 'limit' || o.type === 'stop_limit') && o.limitPrice === undefined) {
    ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: `is required for ${o.type} orders` });
  }
  if ((o.type === 'stop' || o.type === 'stop_limit') && o.stopPrice === undefined) {
    ctx.addIssue({ code: 'custom', path: ['stopPrice'], message: `is required for ${o.type} orders` });
  }
  if (o.type === 'trailing_stop' && o.trailPercent === undefined) {
    ctx.addIssue({ code: 'custom', path: ['trailPercent'], message: 'is required for trailing_stop orders' });
  }
  if (o.orderClass === 'oco') {
    if (o.type !== 'limit')
      ctx.addIssue({ code: 'custom', path: ['type'], message: 'must be limit for an oco order' });
    if (o.stopPrice === undefined)
      ctx.addIssue({ code: 'custom', path: ['stopPrice'], message: 'is required for oco orders' });
    if (o.qty === undefined)
      ctx.addIssue({ code: 'custom', path: ['qty'], message: 'is required for oco orders' });
  }
}

/** What place-order sends to an exchange. Exactly one of qty / notional. */
export const OrderIntent = z.object(orderIntentShape).superRefine(checkOrderFields);
export type OrderIntent = z.infer<typeof OrderIntent>;

/** An order as Weaver stores it (the `orders` table) and reports it on the bus and the API. */
export const Order = z.object({
  id: Id,
  clientOrderId: ClientOrderId,
  exchange: Slug,
  exchangeOrderId: z.string().nullable(),
  strategy: Slug,
  signalId: Id.nullable(),
  symbol: TradingSymbol,
  side: Side,
  type: OrderType,
  timeInForce: TimeInForce,
  qty: DecimalString.nullable(),
  notional: DecimalString.nullable(),
  limitPrice: DecimalString.nullable(),
  stopPrice: DecimalString.nullable(),
  trailPercent: DecimalString.nullable(),
  orderClass: OrderClass,
  /**
   * A resting stop-loss / take-profit / trailing-stop order that guards the book's position at the venue
   * (pipeline/protect.ts): not part of the position's planned changes nor of the open-order limit.
   */
  protective: z.boolean(),
  /** The exit a protective order's stop stands for. */
  stopRule: z.enum(['stop_loss', 'trailing_stop']).nullable(),
  status: OrderStatus,
  filledQty: DecimalString,
  filledAvgPrice: DecimalString.nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  createdAt: IsoTime,
  submittedAt: IsoTime.nullable(),
  updatedAt: IsoTime,
});
export type Order = z.infer<typeof Order>;

/** A protective order's take-profit: the limit of an oco exit or of a plain limit order. */
export const takeProfitOf = (o: Pick<Order, 'type' | 'orderClass' | 'limitPrice'>): string | null =>
  o.orderClass === 'oco' || o.type === 'limit' ? o.limitPrice : null;

export const OrderStatusChange = z.object({
  orderId: Id,
  status: OrderStatus,
  at: IsoTime,
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type OrderStatusChange = z.infer<typeof OrderStatusChange>;
