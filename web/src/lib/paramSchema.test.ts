import { BUILTIN_STRATEGIES } from '@weaver/shared/strategies';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { draftFrom, inputBounds, kindOf, type ParamSchema, rangeHint, readDraft } from './paramSchema.ts';

// The gateway serves each module's params as z.toJSONSchema(params, { io: 'input' }); test on the real ones.
const jsonOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input' }) as ParamSchema;
const sma = BUILTIN_STRATEGIES.find((m) => m.name === 'sma-crossover');

describe('strategy parameter schemas', () => {
  it('reads every built-in module: defaults fill the form and pass both the form check and the module', () => {
    expect(BUILTIN_STRATEGIES.length).toBeGreaterThan(0);
    for (const m of BUILTIN_STRATEGIES) {
      const schema = jsonOf(m.params);
      const defaults = m.params.parse({}) as Record<string, unknown>;
      const { values, errors } = readDraft(schema, draftFrom(schema, defaults));
      expect(errors, m.name).toEqual({});
      expect(m.params.safeParse(values).success, m.name).toBe(true);
    }
  });

  it('names the field and the bound a value breaks, as the module would', () => {
    if (!sma) throw new Error('sma-crossover is not a built-in strategy any more');
    const schema = jsonOf(sma.params);
    const draft = draftFrom(schema, { fast: 10, slow: 30 });
    expect(readDraft(schema, { ...draft, fast: '0' }).errors).toEqual({ fast: 'must be at least 1' });
    expect(readDraft(schema, { ...draft, fast: '2.5' }).errors).toEqual({ fast: 'must be a whole number' });
    expect(readDraft(schema, { ...draft, slow: 'abc' }).errors).toEqual({ slow: 'must be a number' });
    expect(readDraft(schema, { ...draft, fast: '12' }).values).toEqual({ fast: 12, slow: 30 });
    // The module refuses fast >= slow; only the server can say so, and the form shows it the same way.
    expect(readDraft(schema, { ...draft, fast: '40' }).errors).toEqual({});
    expect(sma.params.safeParse({ fast: 40, slow: 30 }).success).toBe(false);
  });

  it('maps each JSON Schema type to an input, with bounds the browser can enforce', () => {
    const schema = jsonOf(
      z.object({
        n: z.number().int().min(2).max(9).default(3),
        x: z.number().gt(0).lt(1).optional(),
        on: z.boolean().default(true),
        mode: z.enum(['fast', 'slow']).default('fast'),
        label: z.string().min(2).default('ab'),
        free: z.number().int().default(1),
      }),
    );
    const p = schema.properties ?? {};
    expect(kindOf(p.n)).toBe('integer');
    expect(kindOf(p.x)).toBe('number');
    expect(kindOf(p.on)).toBe('boolean');
    expect(kindOf(p.mode)).toBe('enum');
    expect(kindOf(p.label)).toBe('string');
    expect(inputBounds(p.n)).toEqual({ min: 2, max: 9, step: 1 });
    // zod writes "unbounded integer" as ±MAX_SAFE_INTEGER: not a bound worth showing.
    expect(inputBounds(p.free)).toEqual({ min: undefined, max: undefined, step: 1 });
    expect(rangeHint(p.x)).toBe('> 0, < 1');
    const draft = draftFrom(schema, {});
    expect(draft).toEqual({ n: '3', x: '', on: 'true', mode: 'fast', label: 'ab', free: '1' });
    expect(readDraft(schema, { ...draft, x: '1', mode: 'medium', label: 'a', on: 'false' })).toEqual({
      values: { n: 3, x: 1, on: false, label: 'a', free: 1 },
      errors: {
        x: 'must be less than 1',
        mode: 'must be one of fast, slow',
        label: 'must be at least 2 characters',
      },
    });
  });

  it('edits arrays and objects as JSON, checking syntax and length', () => {
    const combination = BUILTIN_STRATEGIES.find((m) => m.name === 'combination');
    if (!combination) throw new Error('combination is not a built-in strategy any more');
    const schema = jsonOf(combination.params);
    expect(kindOf(schema.properties?.members ?? {})).toBe('json');
    const draft = draftFrom(schema, {});
    expect(JSON.parse(draft.members)).toHaveLength(3);
    expect(readDraft(schema, { ...draft, members: '[{"strategy": ' }).errors).toEqual({
      members: 'must be valid JSON',
    });
    expect(readDraft(schema, { ...draft, members: '{}' }).errors).toEqual({
      members: 'must be a JSON array',
    });
    expect(readDraft(schema, { ...draft, members: '[]' }).errors).toEqual({
      members: 'must have at least 1 item',
    });
    const one = readDraft(schema, { ...draft, members: '[{"strategy":"macd"}]' });
    expect(one.errors).toEqual({});
    expect(combination.params.safeParse(one.values).success).toBe(true);
  });
});
