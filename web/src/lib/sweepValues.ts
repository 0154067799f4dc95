import type { ParamValues } from '@weaver/shared/schemas';

/**
 * How a sweep's values for one parameter are typed in: a list (`5, 10, 20` or `true, false`) or an inclusive
 * range (`5..50:5` — from 5 to 50 by 5; `0.1..0.9` for random search). Empty = the parameter stays fixed.
 */
export const SWEEP_VALUES_HINT = 'values: 5, 10, 20 or a range 5..50:5';

const NUM = /^-?\d+(\.\d+)?$/;

export function parseSweepValues(text: string): { values?: ParamValues; error?: string } {
  const t = text.trim();
  if (t === '') return {};
  const range = /^(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)(?:\s*:\s*(\d+(?:\.\d+)?))?$/.exec(t);
  if (range) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (max < min) return { error: 'range must go from low to high, e.g. 5..50:5' };
    const step = range[3] === undefined ? undefined : Number(range[3]);
    if (step !== undefined && !(step > 0)) return { error: 'step must be greater than 0' };
    return { values: step === undefined ? { min, max, integer: false } : { min, max, step, integer: false } };
  }
  const parts = t.split(',').map((p) => p.trim());
  if (parts.some((p) => p === ''))
    return { error: 'must be values separated by commas, or a range such as 5..50:5' };
  return {
    values: parts.map((p) => (NUM.test(p) ? Number(p) : p === 'true' ? true : p === 'false' ? false : p)),
  };
}
