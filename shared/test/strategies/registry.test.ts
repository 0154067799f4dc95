/**
 * User strategies from WEAVER_STRATEGIES_DIR: loaded by name, validated, reported with their name and
 * reason when broken (never affecting the others), re-imported when their file changes, and listed with
 * their parameter JSON schema.
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BarView,
  clearStrategyCache,
  createGuardedInstance,
  listStrategies,
  loadStrategy,
  prepareStrategy,
  type StrategyFault,
  setStrategiesDir,
} from '../../src/strategies/index.ts';

// Inside the repository so that `import { z } from 'zod'` in a user file resolves like in a real project.
const dir = resolve(import.meta.dirname, '..', '..', '..', '.weaver', `test-strategies-${process.pid}`);

const good = (description: string) => `
import { z } from 'zod';
export default {
  name: 'always-long',
  description: ${JSON.stringify(description)},
  params: z.object({ every: z.number().int().min(1).max(10).default(2).describe('Buy every n bars') }),
  warmup: () => 1,
  create: (p) => { let i = 0; return { next: () => (++i % p.every === 0 ? 1 : 0) }; },
};
`;

function write(file: string, text: string, mtime?: number): void {
  writeFileSync(join(dir, file), text);
  if (mtime) utimesSync(join(dir, file), mtime, mtime);
}

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  write('always-long.ts', good('version one'), 1_700_000_000);
  write('syntax-error.ts', 'export default {{{ not code');
  write('no-default.js', 'export const x = 1;\n');
  write('bad-shape.mjs', "export default { name: 'bad-shape', description: 'x', params: {}, warmup: 3 };\n");
  write(
    'wrong-name.mjs',
    "import { z } from 'zod';\nexport default { name: 'other', description: '', params: z.object({}), warmup: () => 0, create: () => ({ next: () => 0 }) };\n",
  );
  write(
    'thrower.mjs',
    "import { z } from 'zod';\nexport default { name: 'thrower', description: 'throws on bar 3', params: z.object({}), warmup: () => 0, create: () => { let i = 0; return { next: () => { if (++i === 3) throw new Error('boom'); return 0; } }; } };\n",
  );
  write(
    'malformed.mjs',
    "import { z } from 'zod';\nexport default { name: 'malformed', description: 'returns a string', params: z.object({}), warmup: () => 0, create: () => ({ next: () => 'buy' }) };\n",
  );
  write(
    'bad-hint.mjs',
    "import { z } from 'zod';\nexport default { name: 'bad-hint', description: 'limit without price', params: z.object({}), warmup: () => 0, create: () => ({ next: () => 1, order: () => ({ type: 'limit' }) }) };\n",
  );
  setStrategiesDir(dir);
});

afterAll(() => {
  setStrategiesDir(undefined);
  clearStrategyCache();
  rmSync(dir, { recursive: true, force: true });
});

const bar = (i: number): BarView => ({ time: i, open: 1, high: 1, low: 1, close: 1, volume: 0 });

describe('user strategies', () => {
  it('loads a user module by name next to the built-ins', async () => {
    const m = await loadStrategy('always-long');
    expect(m.description).toBe('version one');
    expect((await loadStrategy('sma-crossover')).name).toBe('sma-crossover');
  });

  it('picks up a changed file without a restart, and serves an unchanged one from the cache', async () => {
    const first = await loadStrategy('always-long');
    expect(await loadStrategy('always-long')).toBe(first);
    write('always-long.ts', good('version two'), 1_700_000_100);
    const second = await loadStrategy('always-long');
    expect(second.description).toBe('version two');
    expect(second).not.toBe(first);
  });

  it.each([
    ['syntax-error', /import failed/],
    ['no-default', /no default export/],
    ['bad-shape', /params must be a zod object schema.*warmup must be a function|warmup must be a function/],
    ['wrong-name', /named "other" but its file is wrong-name\.mjs/],
    ['not-there', /no such strategy/],
  ])('reports %s with its name and the reason', async (name, reason) => {
    const err = await loadStrategy(name).catch((e) => e);
    expect(err.name).toBe('StrategyLoadError');
    expect(err.strategy).toBe(name);
    expect(err.message).toContain(`"${name}"`);
    expect(err.reason).toMatch(reason);
  });

  it('lists every strategy with its JSON schema, and broken ones with their reason', async () => {
    const list = await listStrategies();
    const byName = new Map(list.map((s) => [s.name, s]));
    expect(byName.get('sma-crossover')?.source).toBe('builtin');
    const mine = byName.get('always-long');
    expect(mine?.error).toBeNull();
    expect(mine?.paramsSchema).toMatchObject({
      type: 'object',
      properties: {
        every: { type: 'integer', minimum: 1, maximum: 10, default: 2, description: 'Buy every n bars' },
      },
    });
    expect(mine?.defaults).toEqual({ every: 2 });
    expect(byName.get('syntax-error')?.error).toMatch(/import failed/);
    expect(byName.get('bad-shape')?.error).toMatch(/invalid module/);
    // The broken ones did not stop the good ones from listing.
    expect(list.filter((s) => s.error === null).length).toBeGreaterThanOrEqual(10);
  });
});

describe('guarded instances', () => {
  it('a strategy that throws is reported with name, symbol, bar and reason, then answers HOLD', async () => {
    const faults: StrategyFault[] = [];
    const g = createGuardedInstance(await prepareStrategy('thrower', {}), (f) => faults.push(f), 'NVDA');
    expect([g.next(bar(1)), g.next(bar(2)), g.next(bar(3)), g.next(bar(4))]).toEqual([0, 0, 0, 0]);
    expect(faults).toEqual([{ strategy: 'thrower', symbol: 'NVDA', barTime: 3, reason: 'threw: boom' }]);
  });

  it('a malformed decision disables the instance', async () => {
    const faults: StrategyFault[] = [];
    const g = createGuardedInstance(await prepareStrategy('malformed', {}), (f) => faults.push(f), 'AAPL');
    expect(g.next(bar(1))).toBe(0);
    expect(g.next(bar(2))).toBe(0);
    expect(faults).toHaveLength(1);
    expect(faults[0].reason).toMatch(/returned "buy"; a decision is -1, 0 or 1/);
  });

  it('a malformed order hint disables the instance', async () => {
    const faults: StrategyFault[] = [];
    const g = createGuardedInstance(await prepareStrategy('bad-hint', {}), (f) => faults.push(f));
    expect(g.next(bar(1))).toBe(0);
    expect(faults[0].reason).toMatch(/limit order without a positive limitPrice/);
  });

  it('a healthy instance passes decisions through', async () => {
    const faults: StrategyFault[] = [];
    const g = createGuardedInstance(await prepareStrategy('always-long', { every: 2 }), (f) =>
      faults.push(f),
    );
    expect([1, 2, 3, 4].map((i) => g.next(bar(i)))).toEqual([0, 1, 0, 1]);
    expect(faults).toEqual([]);
  });
});
