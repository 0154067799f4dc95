import { env } from '@weaver/shared/config';
import { activeHalts, insertAccountSnapshot, latestAccountSnapshot } from '@weaver/shared/db';
import { logger } from '@weaver/shared/log';
import { dayPnl as riskDayPnl } from '@weaver/shared/risk';
import { HttpError } from '@weaver/shared/runtime';
import { AccountSummary, EquityHistory, EquityQuery, PnlCalendar, PnlQuery } from '@weaver/shared/schemas';
import type { Deps } from '../deps.ts';
import { equityHistory, pnlCalendar } from '../queries/account.ts';
import { defineRoute } from '../route.ts';

/** A stored snapshot per minute at most: enough for the equity curve, never a write per request. */
const SNAPSHOT_EVERY_MS = 60_000;

async function readAccount(deps: Deps): Promise<AccountSummary> {
  const sql = deps.sql();
  const now = deps.now();
  const halts = activeHalts(sql, new Date(now).toISOString());
  halts.catch(() => {}); // awaited below on every path; this only keeps an early failure from going unhandled
  let exchangeName = env().WEAVER_EXCHANGE;
  try {
    const exchange = await deps.exchange();
    exchangeName = exchange.name;
    const account = await exchange.getAccount();
    // Venues that report no day P&L (the sim): the risk module's figure, marked to market since UTC
    // midnight, which is also what the daily loss limit halts on.
    const dayPnl = account.dayPnl ?? (await riskDayPnl(sql, now));
    const latest = await latestAccountSnapshot(sql, account.exchange);
    if (!latest || Date.parse(account.at) - Date.parse(latest.at) >= SNAPSHOT_EVERY_MS) {
      await insertAccountSnapshot(sql, { ...account, dayPnl });
    }
    return { ...account, dayPnl, source: 'exchange', halted: (await halts).length > 0 };
  } catch (err) {
    // The venue is down or refusing: the last snapshot, labelled as such, beats an empty dashboard.
    const snapshot = await latestAccountSnapshot(sql, exchangeName);
    if (!snapshot) {
      throw new HttpError(
        503,
        'exchange_unavailable',
        `the exchange "${exchangeName}" is unavailable and no snapshot is stored`,
      );
    }
    logger().warn(
      { exchange: exchangeName, err: (err as Error).message },
      'account read failed; answering the last snapshot',
    );
    const { id: _id, ...account } = snapshot;
    return { ...account, source: 'snapshot', halted: (await halts).length > 0 };
  }
}

/**
 * One read of the venue serves every request for WEAVER_ACCOUNT_CACHE_MS (default 1 s) and concurrent
 * requests share the read in flight: a dashboard on three screens must not spend the venue's rate limit.
 */
const cache = new WeakMap<Deps, { at: number; value: Promise<AccountSummary> }>();

export function cachedAccount(deps: Deps): Promise<AccountSummary> {
  const hit = cache.get(deps);
  const t = performance.now();
  if (hit && t - hit.at < deps.env.WEAVER_ACCOUNT_CACHE_MS) return hit.value;
  const value = readAccount(deps);
  cache.set(deps, { at: t, value });
  value.catch(() => {
    if (cache.get(deps)?.value === value) cache.delete(deps);
  });
  return value;
}

/** Forget the cached account (after a halt or an order, so the next read is fresh). */
export const invalidateAccount = (deps: Deps): void => {
  cache.delete(deps);
};

export const accountRoutes = [
  defineRoute({
    method: 'get',
    path: '/account',
    summary:
      'Cash, equity, buying power and day P&L from the configured exchange (the last snapshot when it is down)',
    tag: 'account',
    response: AccountSummary,
    handler: async (_, { deps }) => cachedAccount(deps),
  }),
  defineRoute({
    method: 'get',
    path: '/account/equity',
    summary: 'The equity curve from the account snapshots, at most `width` points',
    tag: 'account',
    query: EquityQuery,
    response: EquityHistory,
    handler: async ({ query }, { deps }) => {
      const name = await deps.exchange().then(
        (x) => x.name,
        () => env().WEAVER_EXCHANGE,
      );
      return equityHistory(deps.sql(), name, query, deps.now());
    },
  }),
  defineRoute({
    method: 'get',
    path: '/pnl',
    summary: 'Realised P&L (fees deducted) per day, week or month: the P&L calendar',
    tag: 'account',
    query: PnlQuery,
    response: PnlCalendar,
    handler: async ({ query }, { deps }) => pnlCalendar(deps.sql(), query, deps.now()),
  }),
];
