import { ProtectPositionsInput, protectPositions } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/**
 * Topics bars.fetched (trailing levels move) and trades.recorded (positions change): keeps each open
 * position's stop-loss / take-profit / trailing stop resting at the venue as one protective order.
 */
export default defineFunction({
  name: 'protect-positions',
  input: ProtectPositionsInput,
  run: (input, ctx) => protectPositions(ctx, input),
});
