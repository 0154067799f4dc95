import { activeHalts } from '@weaver/shared/db';
import { HaltStatus } from '@weaver/shared/schemas';
import { defineRoute } from '../route.ts';

export const killSwitchRoutes = [
  defineRoute({
    method: 'get',
    path: '/kill-switch',
    summary: 'Whether trading is halted, and by which halts (the kill switch is scope "global")',
    tag: 'kill-switch',
    response: HaltStatus,
    handler: async (_, { deps }) => {
      const halts = await activeHalts(deps.sql(), new Date(deps.now()).toISOString());
      return { halted: halts.length > 0, halts };
    },
  }),
];
