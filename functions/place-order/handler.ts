import { PlaceOrderInput, placeOrders } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/** Topic signals.created (or a manual order over HTTP): sized, risk-checked, placed once; publishes orders.updated. */
export default defineFunction({
  name: 'place-order',
  input: PlaceOrderInput,
  run: (input, ctx) => placeOrders(ctx, input),
});
