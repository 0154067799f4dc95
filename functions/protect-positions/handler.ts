import { ProtectPositionsInput, protectPositions } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/**
 * Topic protection.due (a new bar or a trade of a strategy with exits): keeps each open position's
 * stop-loss / take-profit / trailing stop resting at the venue as one protective order.
 */
export default defineFunction({
  name: 'protect-positions',
  input: ProtectPositionsInput,
  run: (input, ctx) => protectPositions(ctx, input),
});
