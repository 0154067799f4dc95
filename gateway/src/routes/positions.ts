import { PositionList, PositionsQuery } from '@weaver/shared/schemas';
import { positionViews } from '../queries/positions.ts';
import { defineRoute } from '../route.ts';

export const positionRoutes = [
  defineRoute({
    method: 'get',
    path: '/positions',
    summary: 'Positions per book (strategy) and symbol, valued at the newest bar close',
    tag: 'trading',
    query: PositionsQuery,
    response: PositionList,
    handler: async ({ query }, { deps }) => ({
      items: await positionViews(deps.sql(), {
        strategy: query.strategy,
        symbol: query.symbol,
        open: !query.includeClosed,
      }),
    }),
  }),
];
