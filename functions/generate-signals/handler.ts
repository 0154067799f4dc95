import { GenerateSignalsInput, generateSignals } from '@weaver/shared/pipeline';
import { defineFunction } from '@weaver/shared/runtime';

/** Topic bars.fetched: runs the enabled strategies over the new bars; publishes signals.created. */
export default defineFunction({
  name: 'generate-signals',
  input: GenerateSignalsInput,
  run: (input, ctx) => generateSignals(ctx, input),
});
