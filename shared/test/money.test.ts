import { describe, expect, it } from 'vitest';
import {
  add,
  cmp,
  dec,
  div,
  fromNumber,
  mul,
  roundDownToStep,
  sub,
  sum,
  toNumber,
} from '../src/money/index.ts';
import { DecimalInput, PositiveDecimal } from '../src/schemas/index.ts';

describe('money rule: decimal strings, exact arithmetic', () => {
  it('adds without float error', () => {
    expect(add('0.1', '0.2')).toBe('0.3');
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sum(Array.from({ length: 10 }, () => '0.1'))).toBe('1');
  });
  it('canonicalises: no exponent, no trailing zeros, no -0', () => {
    expect(dec('10.5000')).toBe('10.5');
    expect(dec('1e-7')).toBe('0.0000001');
    expect(dec(1e21)).toBe('1000000000000000000000');
    expect(dec('-0.0')).toBe('0');
  });
  it('enters from numbers rounded to 10 places (float noise never reaches a balance)', () => {
    expect(fromNumber(0.1 + 0.2)).toBe('0.3');
    expect(toNumber('12.25')).toBe(12.25);
  });
  it('multiplies, divides, compares, rounds down to a lot step', () => {
    expect(mul('100', '1.427083')).toBe('142.7083');
    expect(sub('100000', mul('100', '1.427083'))).toBe('99857.2917');
    expect(div('1', '3', 4)).toBe('0.3333');
    expect(cmp('2', '10')).toBe(-1);
    expect(roundDownToStep('1.23456', '0.001')).toBe('1.234');
    expect(roundDownToStep('17', '5')).toBe('15');
  });
  it('schemas accept numbers or strings at boundaries and emit canonical strings', () => {
    expect(DecimalInput.parse(12.5)).toBe('12.5');
    expect(DecimalInput.parse(' 3.10 ')).toBe('3.1');
    expect(DecimalInput.safeParse('abc').success).toBe(false);
    expect(DecimalInput.safeParse(Number.NaN).success).toBe(false);
    const neg = PositiveDecimal.safeParse('-1');
    expect(neg.success).toBe(false);
    expect(neg.error?.issues[0].message).toBe('must be greater than 0');
  });
});
