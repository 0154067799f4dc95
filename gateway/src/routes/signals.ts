import { SignalPage, SignalsQuery } from '@weaver/shared/schemas';
import { pageText } from '../queries/page.ts';
import { listSignals } from '../queries/signals.ts';
import { defineRoute, rawJson } from '../route.ts';

export const signalRoutes = [
  defineRoute({
    method: 'get',
    path: '/signals',
    summary: 'Signals, newest first; filter by strategy, symbol, status and date; keyset pages',
    tag: 'trading',
    query: SignalsQuery,
    response: SignalPage,
    handler: async ({ query }, { deps }) => rawJson(pageText(await listSignals(deps.sql(), query))),
  }),
];
