/** The pipeline side of risk: recording and announcing halts the checks in shared/src/risk call for. */
import { clock } from '../clock/index.ts';
import { recordHalt } from '../db/index.ts';
import {
  type DailyLossBreach,
  dailyLossBreach,
  dailyLossReason,
  GLOBAL_SCOPE,
  loadRiskLimits,
} from '../risk/index.ts';
import type { TradingHalt } from '../schemas/index.ts';
import { logOf, type PipelineContext, publish } from './context.ts';

/** Records the day's halt (once) and publishes risk.halted for it. */
export async function haltForDailyLoss(ctx: PipelineContext, breach: DailyLossBreach): Promise<TradingHalt> {
  const { halt, created } = await recordHalt(ctx.sql, {
    scope: GLOBAL_SCOPE,
    reason: dailyLossReason(breach),
    until: breach.until,
    now: new Date(clock().now()).toISOString(),
  });
  if (created) {
    logOf(ctx).warn(
      { haltId: halt.id, pnl: breach.pnl, limit: breach.limit },
      'daily loss limit reached: trading halted',
    );
    await announceHalt(ctx, halt);
  }
  return halt;
}

export async function announceHalt(ctx: PipelineContext, halt: TradingHalt): Promise<void> {
  await publish(
    ctx,
    'risk.halted',
    { scope: halt.scope, reason: halt.reason, until: halt.until },
    `risk.halted:${halt.id}`,
  );
}

/** After a losing trade: halt now if the day's loss reached the limit, rather than at the next order. */
export async function checkDailyLossAfterTrade(ctx: PipelineContext): Promise<void> {
  const loaded = await loadRiskLimits(ctx.sql);
  if (!loaded.ok) return;
  const breach = await dailyLossBreach(ctx.sql, loaded.limits, clock().now());
  if (breach) await haltForDailyLoss(ctx, breach);
}
