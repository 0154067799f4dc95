/**
 * The COPY path's fast timestamp formatter (shared/src/db/bars.ts) must write exactly what
 * Date.prototype.toISOString writes, or bulk-ingested bars would land at the wrong time.
 */
import { isoFormatter } from '@weaver/shared/db';
import { describe, expect, it } from 'vitest';

describe('isoFormatter', () => {
  it('matches toISOString on ascending series across days, years and leap days', () => {
    const iso = isoFormatter();
    const starts = [
      Date.UTC(2024, 1, 28, 23, 58),
      Date.UTC(1999, 11, 31, 23, 59, 59, 998),
      0,
      -86_400_000 * 3 + 1,
    ];
    for (const start of starts) {
      for (let i = 0; i < 5000; i++) {
        const t = start + i * 997;
        expect(iso(t)).toBe(new Date(t).toISOString());
      }
    }
  });

  it('matches toISOString in any order and falls back where the fast path does not apply', () => {
    const iso = isoFormatter();
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const t = Date.UTC(1970 + (x % 80), x % 12, 1 + (x % 28), x % 24, x % 60, x % 60, x % 1000);
      expect(iso(t)).toBe(new Date(t).toISOString());
    }
    for (const t of [1.5, -62_167_219_200_001, 253_402_300_800_000, 8.64e15])
      expect(iso(t)).toBe(new Date(t).toISOString());
  });
});
