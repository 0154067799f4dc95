/**
 * cron-connector, locally: fires each `topic: cron-function` function on its `schedule` with an empty
 * POST, as cron-connector does through the gateway. Schedules run on the process clock
 * (@weaver/shared/clock): under the demo's accelerated WEAVER_CLOCK, "* * * * *" fires once per
 * simulated minute. One difference on purpose: a tick is skipped while the previous run of the same
 * function is still going, so a slow run under a fast clock cannot pile up invocations.
 */
import { clock, parseClockSpec } from '@weaver/shared/clock';
import type { Logger } from '@weaver/shared/log';
import { Cron } from 'croner';
import type { FunctionHost } from './host.ts';
import { parseDuration } from './stack.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Real epoch ms at which the process clock will read `simulated` (the clock never runs ahead of real time). */
export function realTimeAt(simulated: number, spec = process.env.WEAVER_CLOCK): number {
  if (!spec) return simulated;
  const { epoch, realStart, speed } = parseClockSpec(spec);
  return Math.max(realStart + (simulated - epoch) / speed, simulated);
}

/** The first instant after `after` (simulated epoch ms) that `schedule` names, in UTC. */
export function nextFire(schedule: string, after: number): number {
  const s = schedule.trim();
  if (s.startsWith('@every ')) return after + parseDuration(s.slice(7));
  const pattern = s === '@midnight' ? '@daily' : s;
  const next = new Cron(pattern, { paused: true, timezone: 'Etc/UTC' }).nextRun(new Date(after));
  if (!next) throw new Error(`schedule "${schedule}" never fires`);
  return next.getTime();
}

export interface CronFired {
  fn: string;
  /** Simulated time the tick was for. */
  at: number;
  status: number;
}

export class CronScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  private stopped = false;
  /** Called after each run (tests, the banner's counters). */
  onFired?: (f: CronFired) => void;

  constructor(
    private readonly host: FunctionHost,
    private readonly log: Logger,
  ) {}

  start(): void {
    for (const f of this.host.functions) {
      // `async: "true"` only changes how cron-connector waits for the answer; nobody waits here either way.
      if (f.trigger.kind === 'cron' && this.host.available(f.name)) this.arm(f.name, f.trigger.schedule);
    }
  }

  private arm(name: string, schedule: string): void {
    if (this.stopped) return;
    const at = nextFire(schedule, clock().now());
    const wait = (): void => {
      if (this.stopped) return;
      const delay = Math.min(Math.max(0, realTimeAt(at) - Date.now()), MAX_TIMER_MS);
      const timer = setTimeout(() => {
        // Timers can fire a hair early, and the clock spec may change (restart of the demo clock).
        if (clock().now() < at) return wait();
        this.fire(name, at);
        this.arm(name, schedule);
      }, delay);
      timer.unref();
      this.timers.set(name, timer);
    };
    wait();
  }

  private fire(name: string, at: number): void {
    if (this.running.has(name)) {
      this.log.debug({ fn: name }, 'cron tick skipped: previous run still going');
      return;
    }
    this.running.add(name);
    this.host
      .invoke(name, {
        method: 'POST',
        path: '/',
        query: '',
        headers: { 'user-agent': 'cron-connector', 'content-length': '0', 'x-connector': 'cron-connector' },
        body: Buffer.alloc(0),
      })
      .then((res) => {
        if (res.status >= 400) {
          this.log.warn(
            {
              fn: name,
              status: res.status,
              callId: res.callId,
              body: res.body.toString('utf8').slice(0, 500),
            },
            'cron invocation failed',
          );
        }
        this.onFired?.({ fn: name, at, status: res.status });
      })
      .catch((e) => this.log.error({ fn: name, err: (e as Error).message }, 'cron invocation failed'))
      .finally(() => this.running.delete(name));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
