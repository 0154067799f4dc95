import { z } from 'zod';
import { knownStrategy } from '../catalog.ts';
import {
  type BarView,
  BUY,
  type Decision,
  defineStrategy,
  HOLD,
  SELL,
  type StrategyInstance,
} from '../types.ts';

const Member = z.object({
  strategy: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'must be a strategy name' })
    .refine((s) => s !== 'combination', { message: 'a combination cannot contain a combination' })
    .describe('Name of the member strategy'),
  params: z.record(z.string(), z.unknown()).default({}).describe("The member's parameters"),
  weight: z.number().gt(0).max(100).default(1).describe('Weight in the weighted score'),
});

/**
 * Several strategies voting on one symbol. Each member's stance is its last non-HOLD decision (+1 long,
 * -1 out, 0 none yet). The rule turns stances into a target: `all` (every member agrees), `majority`
 * (more than half the members), `weighted` (Σ weight × stance / Σ weight reaches ±threshold). The
 * combination emits BUY or SELL when its target changes, so it fires once per change like its members.
 */
export const combination = defineStrategy({
  name: 'combination',
  description:
    'Runs several strategies with weights and combines their decisions: all agree, majority, or a weighted score.',
  params: z
    .object({
      members: z
        .array(Member)
        .min(1)
        .max(20)
        .default([
          { strategy: 'sma-crossover', params: {}, weight: 1 },
          { strategy: 'macd', params: {}, weight: 1 },
          { strategy: 'rsi-mean-reversion', params: {}, weight: 1 },
        ])
        .describe('The strategies to combine'),
      rule: z
        .enum(['all', 'majority', 'weighted'])
        .default('majority')
        .describe('How members decide together'),
      threshold: z
        .number()
        .gt(0)
        .max(1)
        .default(0.5)
        .describe('Weighted rule: the score (fraction of total weight) needed to act'),
    })
    .superRefine((p, ctx) => {
      // Members already known (built-ins, loaded user strategies) get their parameters checked here,
      // so a bad member parameter is reported with its path before anything runs.
      p.members.forEach((m, i) => {
        const mod = knownStrategy(m.strategy);
        if (!mod) return;
        const r = mod.params.safeParse(m.params);
        if (!r.success) {
          for (const issue of r.error.issues) {
            ctx.addIssue({
              code: 'custom',
              path: ['members', i, 'params', ...issue.path],
              message: issue.message,
            });
          }
        }
      });
    }),
  requires: (p) => p.members.map((m) => m.strategy),
  warmup(p) {
    let w = 1;
    for (const m of p.members) {
      const mod = knownStrategy(m.strategy);
      if (mod) w = Math.max(w, mod.warmup(mod.params.parse(m.params)));
    }
    return w;
  },
  create(p) {
    const n = p.members.length;
    const instances: StrategyInstance[] = p.members.map((m) => {
      const mod = knownStrategy(m.strategy);
      if (!mod) throw new Error(`member strategy "${m.strategy}" is not loaded`);
      return mod.create(mod.params.parse(m.params));
    });
    const weights = Float64Array.from(p.members, (m) => m.weight);
    let totalWeight = 0;
    for (const w of weights) totalWeight += w;
    const stance = new Int8Array(n);
    let target: Decision = HOLD;
    const decide = (): Decision => {
      if (p.rule === 'weighted') {
        let score = 0;
        for (let i = 0; i < n; i++) score += weights[i] * stance[i];
        score /= totalWeight;
        if (score >= p.threshold) return BUY;
        if (score <= -p.threshold) return SELL;
        return target;
      }
      let longs = 0;
      let outs = 0;
      for (let i = 0; i < n; i++) {
        if (stance[i] > 0) longs++;
        else if (stance[i] < 0) outs++;
      }
      const need = p.rule === 'all' ? n : Math.floor(n / 2) + 1;
      if (longs >= need) return BUY;
      if (outs >= need) return SELL;
      return target;
    };
    return {
      next(bar: Readonly<BarView>) {
        for (let i = 0; i < n; i++) {
          const d = instances[i].next(bar);
          if (d !== HOLD) stance[i] = d;
        }
        const t = decide();
        if (t === target) return HOLD;
        target = t;
        return t;
      },
    };
  },
});
