import { assertTradingMode } from '@weaver/shared/exchanges';
import { getExchange, PlaceOrderInput, placeOrders } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/** Topic signals.created (or a manual order over HTTP): sized, risk-checked, placed once; publishes orders.updated. */
export default defineFunction({
  name: 'place-order',
  input: PlaceOrderInput,
  run: async (input, ctx) => {
    // Paper unless live trading is opted into and the keys open the configured account: refuse otherwise.
    await assertTradingMode(await getExchange());
    return placeOrders(ctx, input);
  },
});
