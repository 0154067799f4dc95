import { describe, expect, it } from 'vitest';
import { orderKindText, stopRuleText } from './orderText.ts';

describe('orderKindText', () => {
  it('names each kind of order with its prices', () => {
    const o = { type: 'limit', orderClass: 'oco', stopPrice: '98.8', limitPrice: '114.4' } as const;
    expect(orderKindText(o)).toBe('oco: stop $98.80 · target $114.40');
    expect(orderKindText({ ...o, orderClass: 'simple' })).toBe('limit $114.40');
    expect(orderKindText({ ...o, orderClass: 'simple', type: 'stop' })).toBe('stop $98.80');
    expect(orderKindText({ ...o, orderClass: 'simple', type: 'stop_limit' })).toBe(
      'stop limit $98.80 · limit $114.40',
    );
    expect(orderKindText({ ...o, orderClass: 'simple', type: 'trailing_stop' })).toBe('trailing stop');
    expect(orderKindText({ ...o, orderClass: 'simple', type: 'market' })).toBe('market');
    expect(stopRuleText('trailing_stop')).toBe('trailing stop');
    expect(stopRuleText(null)).toBeNull();
  });
});
