import { ReconcileInput, reconcile } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/** Cron: sweeps up what lost messages left (claims, signals, orders, fills) and snapshots the account. */
export default defineFunction({
  name: 'reconcile',
  input: ReconcileInput,
  run: (input, ctx) => reconcile(ctx, input),
});
