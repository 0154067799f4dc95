import type { PositionView } from '@weaver/shared/schemas';
import { href } from '../app/router.ts';
import { orderKindText, stopRuleText } from '../lib/orderText.ts';

/** A position's exit resting at the venue ("oco: stop $98.80 · target $114.40"), or a dash. */
export function RestingExit({ position }: { position: PositionView }) {
  const r = position.restingExit;
  if (!r) return <span className="muted">—</span>;
  const rule = stopRuleText(r.stopRule);
  return (
    <a
      href={href('/orders', { tab: 'orders', strategy: position.strategy, symbol: position.symbol })}
      title={
        rule
          ? `Order #${r.orderId} at the venue; its stop is the ${rule}`
          : `Order #${r.orderId} at the venue`
      }
    >
      {orderKindText({ ...r, limitPrice: r.takeProfit })}
    </a>
  );
}
