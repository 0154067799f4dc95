import { TradePage, TradesQuery } from '@weaver/shared/schemas';
import { pageText } from '../queries/page.ts';
import { listTrades } from '../queries/trades.ts';
import { defineRoute, rawJson } from '../route.ts';

export const tradeRoutes = [
  defineRoute({
    method: 'get',
    path: '/trades',
    summary: 'Trades, newest first; filter by symbol, strategy, side and date; keyset pages',
    tag: 'trading',
    query: TradesQuery,
    response: TradePage,
    handler: async ({ query }, { deps }) => rawJson(pageText(await listTrades(deps.sql(), query))),
  }),
];
