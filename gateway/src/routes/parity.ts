import { parityReport } from '@weaver/shared/backtest';
import { ParityQuery, ParityReport } from '@weaver/shared/schemas';
import { withFieldNames } from '../pipeline.ts';
import { defineRoute } from '../route.ts';

export const parityRoutes = [
  defineRoute({
    method: 'get',
    path: '/parity',
    summary:
      "Live versus backtest for a past period: the stored bars replayed with each strategy's live configuration; every signal and fill that differs, with its cause where known",
    tag: 'strategies',
    query: ParityQuery,
    response: ParityReport,
    handler: async ({ query }, { deps }) => {
      // The report names an unknown strategy `strategies.<i>`; this API's parameter is `strategy`.
      const report = await withFieldNames(
        (f) => (f.startsWith('strategies.') ? 'strategy' : f),
        () => parityReport(deps.sql(), { from: query.from, to: query.to, strategies: query.strategy }),
      );
      // The backtester types its report by hand: checked against the API's schema, so what is
      // documented is what is sent.
      return ParityReport.parse(report);
    },
  }),
];
