import { BarSeriesList, BarsQuery, BarsResponse } from '@weaver/shared/schemas';
import { barSeries, chartBars } from '../queries/bars.ts';
import { defineRoute } from '../route.ts';

export const barRoutes = [
  defineRoute({
    method: 'get',
    path: '/bars',
    summary:
      'Candles for a chart: a symbol and timeframe over a range, downsampled to at most `width` candles',
    tag: 'market',
    query: BarsQuery,
    response: BarsResponse,
    handler: async ({ query }, { deps }) => ({
      symbol: query.symbol,
      timeframe: query.timeframe,
      ...(await chartBars(deps.sql(), query, deps.now())),
    }),
  }),
  defineRoute({
    method: 'get',
    path: '/bars/series',
    summary: 'The symbols and timeframes with stored bars, and the time each starts and ends',
    tag: 'market',
    response: BarSeriesList,
    handler: async (_, { deps }) => barSeries(deps.sql()),
  }),
];
