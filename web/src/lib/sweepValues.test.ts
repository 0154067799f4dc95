import { ParamValues } from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import { parseSweepValues } from './sweepValues.ts';

describe('parseSweepValues', () => {
  it('reads lists and ranges into what the sweep API accepts', () => {
    const cases: Array<[string, unknown]> = [
      ['5, 10, 20', [5, 10, 20]],
      ['true,false', [true, false]],
      ['fast, slow', ['fast', 'slow']],
      ['-0.5, 1.25', [-0.5, 1.25]],
      ['5..50:5', { min: 5, max: 50, step: 5, integer: false }],
      ['0.1 .. 0.9', { min: 0.1, max: 0.9, integer: false }],
    ];
    for (const [text, expected] of cases) {
      const { values, error } = parseSweepValues(text);
      expect(error, text).toBeUndefined();
      expect(values, text).toEqual(expected);
      expect(ParamValues.safeParse(values).success, text).toBe(true);
    }
    expect(parseSweepValues('  ')).toEqual({});
  });

  it('names what is wrong', () => {
    expect(parseSweepValues('50..5').error).toBe('range must go from low to high, e.g. 5..50:5');
    expect(parseSweepValues('5..50:0').error).toBe('step must be greater than 0');
    expect(parseSweepValues('5,,10').error).toBe(
      'must be values separated by commas, or a range such as 5..50:5',
    );
  });
});
