import { RecordTradesInput, recordTrades } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/** Topic orders.updated: books new fills as trades and positions; publishes trades.recorded. */
export default defineFunction({
  name: 'record-trade',
  input: RecordTradesInput,
  run: (input, ctx) => recordTrades(ctx, input),
});
