import { SyncOrdersInput, syncOrders } from '@weaver/shared/order-sync';
import { defineFunction } from '@weaver/shared/runtime';

/** Cron: open orders' fills, cancels, expiries and rejections from the exchange; positions and cash reconciled (drift recorded). */
export default defineFunction({
  name: 'sync-orders',
  input: SyncOrdersInput,
  run: (input, ctx) => syncOrders(ctx, input),
});
