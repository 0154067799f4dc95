import type { ParamValues } from '@weaver/shared/schemas';
import { kindOf, type ParamProperty } from './paramSchema.ts';

/**
 * How a sweep's values for one parameter are typed in: a list (`5, 10, 20` or `true, false`) or an inclusive
 * range (`5..50:5` — from 5 to 50 by 5; `0.1..0.9` for random search). Empty = the parameter stays fixed.
 * Each value must suit the parameter's type; bounds are the server's to check (it names the field).
 */
export const SWEEP_VALUES_HINT = 'values: 5, 10, 20 or a range 5..50:5';

const NUM = /^-?\d+(\.\d+)?$/;
const RANGE = /^(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)(?:\s*:\s*(\d+(?:\.\d+)?))?$/;

export function parseSweepValues(
  text: string,
  prop: ParamProperty = {},
): { values?: ParamValues; error?: string } {
  const t = text.trim();
  if (t === '') return {};
  const kind = kindOf(prop);
  const numeric = kind === 'integer' || kind === 'number';
  const range = RANGE.exec(t);
  if (range) {
    if (!numeric && prop.type !== undefined) return { error: 'only a number parameter takes a range' };
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (max < min) return { error: 'range must go from low to high, e.g. 5..50:5' };
    const step = range[3] === undefined ? undefined : Number(range[3]);
    if (step !== undefined && !(step > 0)) return { error: 'step must be greater than 0' };
    const integer = kind === 'integer';
    return { values: step === undefined ? { min, max, integer } : { min, max, step, integer } };
  }
  const parts = t.split(',').map((p) => p.trim());
  if (parts.some((p) => p === ''))
    return { error: 'must be values separated by commas, or a range such as 5..50:5' };
  if (numeric) {
    if (!parts.every((p) => NUM.test(p)))
      return { error: 'must be numbers separated by commas, or a range such as 5..50:5' };
    const values = parts.map(Number);
    if (kind === 'integer' && !values.every(Number.isInteger)) return { error: 'must be whole numbers' };
    return { values };
  }
  if (kind === 'boolean') {
    if (!parts.every((p) => p === 'true' || p === 'false')) return { error: 'must be true, false or both' };
    return { values: parts.map((p) => p === 'true') };
  }
  if (kind === 'enum') {
    const allowed = (prop.enum ?? []).map(String);
    const bad = parts.find((p) => !allowed.includes(p));
    if (bad !== undefined) return { error: `must be among ${allowed.join(', ')}` };
    return { values: parts.map((p) => prop.enum?.find((o) => String(o) === p) as string | number) };
  }
  // Untyped: read each value for what it looks like.
  return {
    values: parts.map((p) => (NUM.test(p) ? Number(p) : p === 'true' ? true : p === 'false' ? false : p)),
  };
}
