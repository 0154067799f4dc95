import { activeHalts } from '@weaver/shared/db';
import { haltTrading, resumeTrading } from '@weaver/shared/pipeline';
import { HaltInput, HaltResult, HaltStatus } from '@weaver/shared/schemas';
import type { Deps } from '../deps.ts';
import { pipelineContext } from '../pipeline.ts';
import { defineRoute } from '../route.ts';
import { invalidateAccount } from './account.ts';

async function status(deps: Deps): Promise<HaltStatus> {
  const halts = await activeHalts(deps.sql(), new Date(deps.now()).toISOString());
  return { halted: halts.length > 0, halts };
}

export const killSwitchRoutes = [
  defineRoute({
    method: 'get',
    path: '/kill-switch',
    summary: 'Whether trading is halted, and by which halts (the kill switch is scope "global")',
    tag: 'kill-switch',
    response: HaltStatus,
    handler: async (_, { deps }) => status(deps),
  }),
  defineRoute({
    method: 'post',
    path: '/kill-switch',
    summary:
      'Halt trading: no new orders, open orders canceled; positions are kept unless `flatten` is true (then closed at market)',
    tag: 'kill-switch',
    body: HaltInput,
    response: HaltResult,
    handler: async ({ body }, { deps, c }) => {
      const r = await haltTrading(pipelineContext(deps, c), { reason: body.reason, flatten: body.flatten });
      invalidateAccount(deps);
      return {
        ...(await status(deps)),
        canceledOrders: r.canceled.length,
        flattenOrders: r.closing.flatMap((x) => (x.order ? [x.order] : [])),
        errors: [...r.errors, ...r.closing.filter((x) => !x.order).map((x) => x.reason ?? x.outcome)],
      };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/kill-switch',
    summary: 'Release the kill switch: new orders are allowed again (other risk halts stay until they lapse)',
    tag: 'kill-switch',
    response: HaltStatus,
    handler: async (_, { deps, c }) => {
      await resumeTrading(pipelineContext(deps, c));
      invalidateAccount(deps);
      return status(deps);
    },
  }),
];
