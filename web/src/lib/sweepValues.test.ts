import { ParamValues } from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import type { ParamProperty } from './paramSchema.ts';
import { parseSweepValues } from './sweepValues.ts';

const integer: ParamProperty = { type: 'integer', minimum: 1 };
const number: ParamProperty = { type: 'number' };
const bool: ParamProperty = { type: 'boolean' };
const mode: ParamProperty = { type: 'string', enum: ['fast', 'slow'] };

describe('parseSweepValues', () => {
  it('reads lists and ranges into what the sweep API accepts', () => {
    const cases: Array<[string, ParamProperty, unknown]> = [
      ['5, 10, 20', integer, [5, 10, 20]],
      ['true,false', bool, [true, false]],
      ['fast, slow', mode, ['fast', 'slow']],
      ['-0.5, 1.25', number, [-0.5, 1.25]],
      ['5..50:5', integer, { min: 5, max: 50, step: 5, integer: true }],
      ['0.1 .. 0.9', number, { min: 0.1, max: 0.9, integer: false }],
    ];
    for (const [text, prop, expected] of cases) {
      const { values, error } = parseSweepValues(text, prop);
      expect(error, text).toBeUndefined();
      expect(values, text).toEqual(expected);
      expect(ParamValues.safeParse(values).success, text).toBe(true);
    }
    expect(parseSweepValues('  ', integer)).toEqual({});
  });

  it('names what is wrong for the parameter’s type', () => {
    expect(parseSweepValues('50..5', integer).error).toBe('range must go from low to high, e.g. 5..50:5');
    expect(parseSweepValues('5..50:0', integer).error).toBe('step must be greater than 0');
    expect(parseSweepValues('5,,10', integer).error).toBe(
      'must be values separated by commas, or a range such as 5..50:5',
    );
    expect(parseSweepValues('20..', integer).error).toBe(
      'must be numbers separated by commas, or a range such as 5..50:5',
    );
    expect(parseSweepValues('2.5, 3', integer).error).toBe('must be whole numbers');
    expect(parseSweepValues('yes', bool).error).toBe('must be true, false or both');
    expect(parseSweepValues('fast, medium', mode).error).toBe('must be among fast, slow');
    expect(parseSweepValues('1..3', mode).error).toBe('only a number parameter takes a range');
  });
});
