import { randomUUID } from 'node:crypto';
import { emit } from '@weaver/shared/bus';
import {
  activeHalts,
  createStrategyIfMissing,
  deleteStrategy,
  getSignals,
  getStrategy,
  listOrders,
  listPositions,
  listSignals,
  listStrategies as listStrategyConfigs,
  restingExits,
  setStrategyEnabled,
  upsertStrategy,
} from '@weaver/shared/db';
import { knownExchanges } from '@weaver/shared/exchanges';
import { add, isZero, sum } from '@weaver/shared/money';
import { generateSignals, openBooks } from '@weaver/shared/pipeline';
import { GLOBAL_SCOPE, strategyScope } from '@weaver/shared/risk';
import { conflict, HttpError, notFound } from '@weaver/shared/runtime';
import {
  NameParam,
  Ok,
  ReloadResult,
  RunStrategyResult,
  type Signal,
  type StrategyConfig,
  StrategyCreate,
  StrategyDetail,
  StrategyList,
  type StrategyModuleInfo,
  StrategyModuleList,
  StrategySummary,
  StrategyUpdate,
  type TradingHalt,
} from '@weaver/shared/schemas';
import {
  clearStrategyCache,
  listStrategies as listStrategyModules,
  loadStrategy,
  paramsJsonSchema,
  parseStrategyParams,
  prepareStrategy,
  StrategyLoadError,
} from '@weaver/shared/strategies';
import type { Sql } from 'postgres';
import type { Deps } from '../deps.ts';
import { pipelineContext } from '../pipeline.ts';
import { lastPrices } from '../queries/bars.ts';
import { valuePositions } from '../queries/positions.ts';
import { defineRoute } from '../route.ts';

async function moduleInfo(name: string): Promise<StrategyModuleInfo | null> {
  const all = await listStrategyModules();
  const found = all.find((m) => m.name === name);
  if (found) return found;
  try {
    const m = await loadStrategy(name);
    const defaults = m.params.safeParse({});
    return {
      name: m.name,
      description: m.description,
      source: 'user',
      paramsSchema: paramsJsonSchema(m),
      defaults: defaults.success ? (defaults.data as Record<string, unknown>) : null,
      error: null,
    };
  } catch {
    return null;
  }
}

/** Status, last signal, P&L and open positions of each configured strategy. */
async function summaries(sql: Sql, configs: StrategyConfig[], now: number): Promise<StrategySummary[]> {
  if (configs.length === 0) return [];
  const names = configs.map((c) => c.name);
  const [positions, lastIds, halts] = await Promise.all([
    listPositions(sql, {}),
    sql<{ id: number }[]>`
      SELECT s.id FROM unnest(${names}::text[]) AS n(name)
      CROSS JOIN LATERAL (SELECT id FROM signals WHERE strategy = n.name ORDER BY id DESC LIMIT 1) s`,
    activeHalts(sql, new Date(now).toISOString()),
  ]);
  const signals = await getSignals(
    sql,
    lastIds.map((r) => r.id),
  );
  const lastSignal = new Map<string, Signal>(signals.map((s) => [s.strategy, s]));
  const open = positions.filter((p) => p.qty !== '0');
  const valued = valuePositions(
    open,
    await lastPrices(
      sql,
      open.map((p) => p.symbol),
    ),
  );
  const loadErrors = new Map<string, string>();
  for (const module of new Set(configs.map((c) => c.module))) {
    try {
      await loadStrategy(module);
    } catch (err) {
      loadErrors.set(module, err instanceof StrategyLoadError ? err.reason : String(err));
    }
  }
  return configs.map((c): StrategySummary => {
    const book = valued.filter((p) => p.strategy === c.name);
    const unrealized = book.some((p) => p.unrealizedPnl === null)
      ? null
      : sum(book.map((p) => p.unrealizedPnl as string));
    const stopped: TradingHalt[] = halts.filter(
      (h) => h.scope === GLOBAL_SCOPE || h.scope === strategyScope(c.name),
    );
    const loadError = loadErrors.get(c.module);
    const [status, statusReason]: [StrategySummary['status'], string | null] = loadError
      ? ['error', loadError]
      : !c.enabled
        ? ['disabled', null]
        : stopped.length > 0
          ? ['halted', stopped.map((h) => h.reason).join('; ')]
          : ['running', null];
    return {
      ...c,
      status,
      statusReason,
      lastSignal: lastSignal.get(c.name) ?? null,
      realizedPnl: positions
        .filter((p) => p.strategy === c.name)
        .reduce((acc, p) => add(acc, p.realizedPnl), '0'),
      unrealizedPnl: unrealized,
      openPositions: book.length,
    };
  });
}

async function existing(sql: Sql, name: string): Promise<StrategyConfig> {
  const s = await getStrategy(sql, name);
  if (!s) throw notFound(`strategy "${name}"`, 'name');
  return s;
}

/** The book manual orders go to: no strategy may take its name. */
const MANUAL_BOOK = 'manual';

/** A named venue must be one this process can build; null means the configured default. */
function checkExchange(exchange: string | null | undefined): void {
  if (!exchange) return;
  const known = knownExchanges();
  if (!known.includes(exchange)) {
    throw new HttpError(400, 'invalid_input', `invalid input: exchange: unknown exchange "${exchange}"`, {
      exchange: `must be one of ${known.join(', ')} (or null for the configured one)`,
    });
  }
}

async function announce(deps: Deps, name: string, change: string): Promise<void> {
  await emit(
    deps.sql(),
    await deps.bus(),
    'strategies.changed',
    { name, change },
    { correlationId: randomUUID() },
  );
}

async function summaryOf(deps: Deps, name: string): Promise<StrategySummary> {
  const [s] = await summaries(deps.sql(), [await existing(deps.sql(), name)], deps.now());
  return s;
}

export const strategyRoutes = [
  defineRoute({
    method: 'get',
    path: '/strategies',
    summary: 'Configured strategies with status, last signal, P&L and open positions',
    tag: 'strategies',
    response: StrategyList,
    handler: async (_, { deps }) => ({
      items: await summaries(deps.sql(), await listStrategyConfigs(deps.sql()), deps.now()),
    }),
  }),
  defineRoute({
    method: 'post',
    path: '/strategies',
    summary:
      "Create a strategy instance (disabled unless `enabled: true`); `params` is validated against the module's own schema (errors name params.<field>); 409 when the name is taken",
    tag: 'strategies',
    body: StrategyCreate,
    response: StrategySummary,
    status: 201,
    handler: async ({ body }, { deps }) => {
      const sql = deps.sql();
      if (body.name === MANUAL_BOOK)
        throw conflict(`"${MANUAL_BOOK}" is the book of manual orders`, {
          name: 'is reserved for manual orders',
        });
      if (await getStrategy(sql, body.name))
        throw conflict(`strategy "${body.name}" exists`, { name: 'is taken by another strategy' });
      checkExchange(body.exchange);
      const module = await loadStrategy(body.module);
      const params = parseStrategyParams(module, body.params);
      // Created enabled, it must be able to run as saved: load its members and check its warm-up now.
      if (body.enabled) await prepareStrategy(body.module, params);
      const { created } = await createStrategyIfMissing(sql, { ...body, params });
      // Two creations racing for one name: the second finds the first's row.
      if (!created)
        throw conflict(`strategy "${body.name}" exists`, { name: 'is taken by another strategy' });
      await announce(deps, body.name, 'created');
      return summaryOf(deps, body.name);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/strategies/modules',
    summary:
      "Strategy modules (built-in and user) with their parameters' JSON Schema and defaults, for the UI's form",
    tag: 'strategies',
    response: StrategyModuleList,
    handler: async () => ({ items: await listStrategyModules() }),
  }),
  defineRoute({
    method: 'post',
    path: '/strategies/reload',
    summary: 'Reload user strategy modules from WEAVER_STRATEGIES_DIR; reports each that fails to load',
    tag: 'strategies',
    response: ReloadResult,
    handler: async () => {
      clearStrategyCache();
      const all = await listStrategyModules();
      return {
        modules: all.filter((m) => m.error === null).map((m) => m.name),
        errors: Object.fromEntries(
          all.filter((m) => m.error !== null).map((m) => [m.name, m.error as string]),
        ),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/strategies/:name',
    summary: 'One strategy: its summary, module and parameter schema, positions and recent signals',
    tag: 'strategies',
    params: NameParam,
    response: StrategyDetail,
    handler: async ({ params }, { deps }) => {
      const sql = deps.sql();
      const summary = await summaryOf(deps, params.name);
      const [info, positions, signals] = await Promise.all([
        moduleInfo(summary.module),
        listPositions(sql, { strategy: params.name }),
        listSignals(sql, { strategy: params.name, limit: 20 }),
      ]);
      const [prices, resting] = await Promise.all([
        lastPrices(
          sql,
          positions.map((p) => p.symbol),
        ),
        restingExits(sql, positions),
      ]);
      return {
        ...summary,
        moduleInfo: info,
        positions: valuePositions(positions, prices, resting),
        recentSignals: signals.items,
      };
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/strategies/:name',
    summary:
      "Change a strategy's settings; `params` is validated against the module's own schema (errors name params.<field>)",
    tag: 'strategies',
    params: NameParam,
    body: StrategyUpdate,
    response: StrategySummary,
    handler: async ({ params, body }, { deps }) => {
      const sql = deps.sql();
      const current = await existing(sql, params.name);
      checkExchange(body.exchange);
      const next = { ...current, ...body, exits: body.exits ?? current.exits };
      const module = await loadStrategy(next.module);
      const validated = parseStrategyParams(module, body.params ?? current.params);
      // An enabled strategy must be able to run as saved: load its members and check its warm-up now.
      if (next.enabled) await prepareStrategy(next.module, validated);
      await upsertStrategy(sql, {
        name: current.name,
        module: current.module,
        description: next.description,
        params: validated,
        enabled: next.enabled,
        symbols: next.symbols,
        timeframe: next.timeframe,
        exchange: next.exchange,
        sizing: next.sizing,
        exits: next.exits,
        allowShort: next.allowShort,
      });
      await announce(deps, current.name, 'updated');
      // New exits (or parameters that change the module's) move the resting orders now, not at the next bar.
      const books = (await openBooks(sql, [current.name])).map(({ strategy, symbol }) => ({
        strategy,
        symbol,
      }));
      if (books.length > 0) {
        await emit(sql, await deps.bus(), 'protection.due', { books }, { correlationId: randomUUID() });
      }
      return summaryOf(deps, current.name);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/strategies/:name',
    summary:
      'Delete a strategy instance. 409 while it is enabled or its book has an open position or open order (disable it, close and cancel first: a book without its strategy could not be closed through the API). Its signals, orders and trades stay under its name',
    tag: 'strategies',
    params: NameParam,
    response: Ok,
    handler: async ({ params }, { deps }) => {
      const sql = deps.sql();
      const current = await existing(sql, params.name);
      if (current.enabled)
        throw conflict(`strategy "${current.name}" is enabled; disable it first`, { name: 'is enabled' });
      const [positions, orders] = await Promise.all([
        listPositions(sql, { strategy: current.name }),
        listOrders(sql, { strategy: current.name, status: ['open'], limit: 500 }),
      ]);
      const held = positions.filter((p) => !isZero(p.qty)).map((p) => p.symbol);
      if (held.length > 0 || orders.items.length > 0) {
        const what = [
          held.length ? `open positions in ${held.join(', ')}` : '',
          orders.items.length
            ? `${orders.items.length} open order${orders.items.length === 1 ? '' : 's'}`
            : '',
        ]
          .filter(Boolean)
          .join(' and ');
        throw conflict(`strategy "${current.name}" still has ${what}: close and cancel them first`, {
          name: `has ${what}`,
        });
      }
      await deleteStrategy(sql, current.name);
      await announce(deps, current.name, 'deleted');
      return { ok: true as const };
    },
  }),
  ...(['enable', 'disable'] as const).map((action) =>
    defineRoute({
      method: 'post',
      path: `/strategies/:name/${action}`,
      summary:
        action === 'enable'
          ? 'Resume a strategy: it trades on the next bars (its module and parameters are checked first)'
          : 'Pause a strategy: no new signals; its positions and open orders stay as they are',
      tag: 'strategies',
      params: NameParam,
      response: StrategySummary,
      handler: async ({ params }, { deps }) => {
        const sql = deps.sql();
        const current = await existing(sql, params.name);
        if (action === 'enable') await prepareStrategy(current.module, current.params);
        await setStrategyEnabled(sql, current.name, action === 'enable');
        await announce(deps, current.name, action === 'enable' ? 'enabled' : 'disabled');
        return summaryOf(deps, current.name);
      },
    }),
  ),
  defineRoute({
    method: 'post',
    path: '/strategies/:name/run',
    summary:
      'Run an enabled strategy now on the stored bars; new signals go on to place-order as usual (409 when it is disabled)',
    tag: 'strategies',
    params: NameParam,
    response: RunStrategyResult,
    handler: async ({ params }, { deps, c }) => {
      const current = await existing(deps.sql(), params.name);
      if (!current.enabled)
        throw conflict(`strategy "${current.name}" is disabled; enable it first`, { name: 'is disabled' });
      const r = await generateSignals(pipelineContext(deps, c), { strategies: [current.name] });
      const run = r.strategies.find((x) => x.name === current.name);
      if (run?.status === 'error')
        throw conflict(`strategy "${current.name}" failed: ${run.reason}`, { name: run.reason ?? 'failed' });
      return { strategy: current.name, signalIds: r.signalIds };
    },
  }),
];
