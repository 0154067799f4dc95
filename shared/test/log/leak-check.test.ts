/**
 * The suite-wide secrets check's search (shared/src/testing/leaks.ts): it finds every secret in the
 * captured output, names each without printing it, and leaves words too short to be credentials alone.
 */
import { describe, expect, it } from 'vitest';
import { findLeaks } from '../../src/testing/leaks.ts';

describe('finding secrets in captured output', () => {
  it('reports each secret found, masked everywhere in the excerpt, across chunk boundaries', () => {
    const chunks = [
      '{"msg":"calling https://api/?key=sk-abc',
      'def-123456"}\n',
      'token tok-zz-999999 sent\n',
    ];
    const leaks = findLeaks(chunks, ['sk-abcdef-123456', 'tok-zz-999999', 'not-there-000000']);
    expect(leaks).toHaveLength(2);
    for (const l of leaks) {
      expect(l).not.toContain('sk-abcdef-123456');
      expect(l).not.toContain('tok-zz-999999');
    }
    expect(leaks[0]).toMatch(/^sk…\(16 chars\) in: .*\[SECRET sk…\(16 chars\)\]/s);
    expect(leaks[1]).toMatch(/^to…\(13 chars\) in: .*\[SECRET to…\(13 chars\)\]/s);
  });

  it('masks a secret that contains another one whole', () => {
    const [leak, inner] = findLeaks(['x abcdef123456789 y'], ['abcdef', 'abcdef123456789']);
    expect(leak).toContain('[SECRET ab…(15 chars)]');
    expect(inner).toBeUndefined();
  });

  it('ignores values too short to be credentials (a channel switched off)', () => {
    expect(findLeaks(['notify: channel off'], ['off', 'chan'])).toEqual([]);
  });
});
