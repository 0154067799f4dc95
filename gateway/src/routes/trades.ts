import { listTradesJson, pageBody } from '@weaver/shared/db';
import { TradePage, TradesQuery } from '@weaver/shared/schemas';
import { defineRoute, rawJson } from '../route.ts';

export const tradeRoutes = [
  defineRoute({
    method: 'get',
    path: '/trades',
    summary: 'Trades, newest first; filter by symbol, strategy, side and date; keyset pages',
    tag: 'trading',
    query: TradesQuery,
    response: TradePage,
    handler: async ({ query }, { deps }) => rawJson(pageBody(await listTradesJson(deps.sql(), query))),
  }),
];
