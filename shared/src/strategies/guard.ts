import type { BarView, Decision, OrderHint, StrategyInstance } from './types.ts';
import { HOLD } from './types.ts';

/** Why a strategy was disabled for a run: which one, on which symbol, at which bar, and the reason. */
export interface StrategyFault {
  strategy: string;
  symbol?: string;
  /** Time (epoch ms) of the bar being evaluated when it failed; absent when it failed outside a bar. */
  barTime?: number;
  reason: string;
}

const ORDER_TYPES = new Set(['market', 'limit', 'stop', 'stop_limit']);
const TIFS = new Set(['day', 'gtc', undefined]);
const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** Why an order hint is malformed, or null when it is usable. */
export function orderHintProblem(h: unknown): string | null {
  if (h === null || h === undefined) return null;
  if (typeof h !== 'object') return `order() returned ${typeof h}, not an object`;
  const o = h as OrderHint;
  if (!ORDER_TYPES.has(o.type)) return `order() returned type ${JSON.stringify(o.type)}`;
  if ((o.type === 'limit' || o.type === 'stop_limit') && !positive(o.limitPrice)) {
    return `order() returned a ${o.type} order without a positive limitPrice`;
  }
  if ((o.type === 'stop' || o.type === 'stop_limit') && !positive(o.stopPrice)) {
    return `order() returned a ${o.type} order without a positive stopPrice`;
  }
  if (!TIFS.has(o.timeInForce)) return `order() returned timeInForce ${JSON.stringify(o.timeInForce)}`;
  return null;
}

/**
 * A strategy instance that cannot take its caller down: a throw or a malformed decision or order hint
 * is reported once (with the strategy's name, the symbol and the reason) and the instance is disabled
 * for the rest of the run, answering HOLD. Other strategies and symbols carry on.
 */
export class GuardedInstance implements StrategyInstance {
  fault: StrategyFault | null = null;
  private lastHint: Readonly<OrderHint> | null = null;

  constructor(
    readonly strategy: string,
    private readonly inner: StrategyInstance,
    private readonly report: (fault: StrategyFault) => void,
    readonly symbol?: string,
  ) {}

  private fail(reason: string, barTime?: number): Decision {
    this.fault = { strategy: this.strategy, symbol: this.symbol, barTime, reason };
    this.report(this.fault);
    return HOLD;
  }

  next(bar: Readonly<BarView>): Decision {
    if (this.fault) return HOLD;
    let d: unknown;
    try {
      d = this.inner.next(bar);
    } catch (err) {
      return this.fail(`threw: ${err instanceof Error ? err.message : String(err)}`, bar.time);
    }
    if (d !== 0 && d !== 1 && d !== -1) {
      return this.fail(`returned ${JSON.stringify(d) ?? String(d)}; a decision is -1, 0 or 1`, bar.time);
    }
    this.lastHint = null;
    if (d !== HOLD && this.inner.order) {
      let h: unknown;
      try {
        h = this.inner.order();
      } catch (err) {
        return this.fail(`order() threw: ${err instanceof Error ? err.message : String(err)}`, bar.time);
      }
      const problem = orderHintProblem(h);
      if (problem) return this.fail(problem, bar.time);
      this.lastHint = (h as OrderHint | null | undefined) ?? null;
    }
    return d as Decision;
  }

  order(): Readonly<OrderHint> | null {
    return this.lastHint;
  }
}
