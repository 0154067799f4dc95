import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { firstLoadFiles, gzipKb } from './web.ts';

describe('web bench: first-load JS', () => {
  // The shape Vite writes to dist/.vite/manifest.json.
  const manifest = {
    'index.html': {
      file: 'assets/index.js',
      isEntry: true,
      imports: ['_react.js', '_shared.js'],
      dynamicImports: ['src/Chart.tsx'],
    },
    '_react.js': { file: 'assets/react.js', imports: ['_shared.js'] },
    '_shared.js': { file: 'assets/shared.js' },
    'src/Chart.tsx': { file: 'assets/Chart.js', isDynamicEntry: true, imports: ['_charts.js', '_react.js'] },
    '_charts.js': { file: 'assets/charts.js' },
    'index.css': { file: 'assets/index.css' },
  };

  it('counts the entry and its static imports once each, not lazy chunks', () => {
    expect(firstLoadFiles(manifest)).toEqual(['assets/index.js', 'assets/react.js', 'assets/shared.js']);
  });

  it('refuses a manifest that names a chunk it does not have', () => {
    expect(() =>
      firstLoadFiles({ 'index.html': { file: 'a.js', isEntry: true, imports: ['_gone.js'] } }),
    ).toThrow('web manifest names a missing chunk: _gone.js');
    expect(() => firstLoadFiles({ 'x.js': { file: 'x.js' } })).toThrow('web manifest has no entry chunk');
  });

  it('sums gzipped sizes in kB (1000 bytes)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weaver-web-bench-'));
    const a = join(dir, 'a.js');
    const b = join(dir, 'b.js');
    writeFileSync(a, 'const x = 1;\n'.repeat(5000));
    writeFileSync(b, Array.from({ length: 3000 }, (_, i) => `f${i * 7919}();`).join('\n'));
    const expected =
      (gzipSync(`${'const x = 1;\n'.repeat(5000)}`, { level: 9 }).length +
        gzipSync(Array.from({ length: 3000 }, (_, i) => `f${i * 7919}();`).join('\n'), { level: 9 }).length) /
      1000;
    expect(gzipKb([a, b])).toBeCloseTo(expected, 6);
  });
});

describe('web bench: production build check', () => {
  it("recognises React's development JSX runtime", async () => {
    const { isDevelopmentBuild } = await import('./web.ts');
    expect(
      isDevelopmentBuild('return jsxDEV("div", { children: x }, void 0, false, {fileName: "a.tsx"})'),
    ).toBe(true);
    expect(isDevelopmentBuild('return jsx("div", { children: x })')).toBe(false);
  });
});
