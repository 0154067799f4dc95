import type { Order } from '@weaver/shared/schemas';
import { money } from './format.ts';

type Priced = Pick<Order, 'type' | 'orderClass' | 'stopPrice' | 'limitPrice'>;

/** What an order is, with its prices: "stop $98.80", "oco: stop $98.80 · target $114.40", "limit $21.99". */
export function orderKindText(o: Priced): string {
  if (o.orderClass === 'oco') return `oco: stop ${money(o.stopPrice)} · target ${money(o.limitPrice)}`;
  if (o.type === 'stop') return `stop ${money(o.stopPrice)}`;
  if (o.type === 'stop_limit') return `stop limit ${money(o.stopPrice)} · limit ${money(o.limitPrice)}`;
  if (o.type === 'limit') return `limit ${money(o.limitPrice)}`;
  return o.type.replace('_', ' ');
}

/** A protective order's stop, in words: which exit it stands for. */
export const stopRuleText = (rule: Order['stopRule']): string | null =>
  rule === 'trailing_stop' ? 'trailing stop' : rule === 'stop_loss' ? 'stop loss' : null;
