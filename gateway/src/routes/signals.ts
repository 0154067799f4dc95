import { listSignalsJson, pageBody } from '@weaver/shared/db';
import { SignalPage, SignalsQuery } from '@weaver/shared/schemas';
import { defineRoute, rawJson } from '../route.ts';

export const signalRoutes = [
  defineRoute({
    method: 'get',
    path: '/signals',
    summary: 'Signals, newest first; filter by strategy, symbol, status and date; keyset pages',
    tag: 'trading',
    query: SignalsQuery,
    response: SignalPage,
    handler: async ({ query }, { deps }) => rawJson(pageBody(await listSignalsJson(deps.sql(), query))),
  }),
];
