import { listPositions } from '@weaver/shared/db';
import { closePosition } from '@weaver/shared/pipeline';
import {
  CloseAllInput,
  ClosePositionInput,
  CloseResult,
  type Order,
  PositionList,
  PositionsQuery,
} from '@weaver/shared/schemas';
import { pipelineContext, withFieldNames } from '../pipeline.ts';
import { positionViews } from '../queries/positions.ts';
import { defineRoute } from '../route.ts';
import { invalidateAccount } from './account.ts';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

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
  defineRoute({
    method: 'post',
    path: '/positions/close',
    summary: "Close one book's position in a symbol with a market order (a repeated click closes once)",
    tag: 'trading',
    body: ClosePositionInput,
    response: CloseResult,
    handler: async ({ body }, { deps, c }) => {
      const r = await withFieldNames(
        (f) => f.replace(/^order\./, ''),
        () => closePosition(pipelineContext(deps, c), body.strategy, body.symbol),
      );
      invalidateAccount(deps);
      return { orders: r.order ? [r.order] : [], errors: r.order ? [] : [r.reason ?? r.outcome] };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/positions/close-all',
    summary: "Close every open position (or one strategy's) with market orders; needs { confirm: true }",
    tag: 'trading',
    body: CloseAllInput,
    response: CloseResult,
    handler: async ({ body }, { deps, c }) => {
      const ctx = pipelineContext(deps, c);
      const orders: Order[] = [];
      const errors: string[] = [];
      for (const p of await listPositions(ctx.sql, { strategy: body.strategy, open: true })) {
        try {
          const r = await closePosition(ctx, p.strategy, p.symbol);
          if (r.order) orders.push(r.order);
          else errors.push(`${p.strategy}/${p.symbol}: ${r.reason ?? r.outcome}`);
        } catch (err) {
          errors.push(`${p.strategy}/${p.symbol}: ${message(err)}`);
        }
      }
      invalidateAccount(deps);
      return { orders, errors };
    },
  }),
];
