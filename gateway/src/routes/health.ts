import { Health } from '@weaver/shared/schemas';
import { defineRoute } from '../route.ts';

export const healthRoutes = [
  defineRoute({
    method: 'get',
    path: '/health',
    summary: 'Liveness: the gateway answers (no token needed)',
    tag: 'system',
    auth: false,
    response: Health,
    handler: async () => ({ status: 'ok' as const, time: new Date().toISOString() }),
  }),
];
