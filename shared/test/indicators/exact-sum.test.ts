/** exactSum rounds like Python's math.fsum (the cases from CPython's own tests), and Sma.exact uses it. */
import { describe, expect, it } from 'vitest';
import { exactSum, Sma } from '../../src/indicators/index.ts';

describe('exactSum', () => {
  it.each([
    [Array.from({ length: 10 }, () => 0.1), 1],
    [[1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50], 1e-100],
    [[2 ** 53, -0.5, -(2 ** -54)], 2 ** 53 - 1],
    [[2 ** 53, 1.0, 2 ** -100], 2 ** 53 + 2],
    [[], 0],
  ])('%j → %d', (xs, sum) => {
    expect(exactSum(xs)).toBe(sum);
  });
  it('the naive sum differs where exactness matters', () => {
    expect(Array.from({ length: 10 }, () => 0.1).reduce((a, b) => a + b, 0)).not.toBe(1);
  });
  it('Sma.exact is the correctly rounded mean of the window', () => {
    const s = new Sma(10);
    for (let i = 0; i < 25; i++) s.push(0.1);
    expect(s.exact()).toBe(0.1);
    expect(Math.abs(s.value - 0.1)).toBeLessThan(1e-16);
  });
});
