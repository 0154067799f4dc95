import { FetchBarsInput, fetchBars } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/** Cron: new bars for every enabled strategy, then open orders synced; publishes bars.fetched / orders.updated. */
export default defineFunction({
  name: 'fetch-bars',
  input: FetchBarsInput,
  run: (input, ctx) => fetchBars(ctx, input),
});
