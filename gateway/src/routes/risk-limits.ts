import { putSetting } from '@weaver/shared/db';
import { loadRiskLimits, RISK_LIMITS_KEY } from '@weaver/shared/risk';
import { RiskLimitsInput, RiskLimitsView } from '@weaver/shared/schemas';
import { defineRoute } from '../route.ts';

export const riskLimitRoutes = [
  defineRoute({
    method: 'get',
    path: '/risk-limits',
    summary: 'The risk limits place-order enforces on every order (an absent limit is no limit)',
    tag: 'kill-switch',
    response: RiskLimitsView,
    handler: async (_, { deps }) => {
      const loaded = await loadRiskLimits(deps.sql());
      return loaded.ok ? { limits: loaded.limits, problem: null } : { limits: {}, problem: loaded.reason };
    },
  }),
  defineRoute({
    method: 'put',
    path: '/risk-limits',
    summary:
      'Replace the risk limits (max order and position notional, max open orders, daily loss, cool-down)',
    tag: 'kill-switch',
    body: RiskLimitsInput,
    response: RiskLimitsView,
    handler: async ({ body }, { deps }) => {
      await putSetting(deps.sql(), RISK_LIMITS_KEY, body);
      return { limits: body, problem: null };
    },
  }),
];
