/**
 * Time as Weaver's functions see it. Production uses the system clock. The local demo replays a
 * simulated market forward on an accelerated clock that starts in the past and runs `speed` times
 * faster than real time until it reaches the present, then keeps pace with it, so bars never carry
 * timestamps from the future. The clock is set by WEAVER_CLOCK so every function, in any process,
 * agrees on "now".
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface AcceleratedClockSpec {
  /** Simulated time at `realStart`, epoch ms. */
  epoch: number;
  /** Real time at which the simulated clock read `epoch`, epoch ms. */
  realStart: number;
  /** Simulated milliseconds per real millisecond. */
  speed: number;
}

export function acceleratedClock(spec: AcceleratedClockSpec, real: () => number = Date.now): Clock {
  return {
    now() {
      const t = real();
      return Math.min(spec.epoch + (t - spec.realStart) * spec.speed, t);
    },
  };
}

/** `WEAVER_CLOCK` format: `<epoch ms>@<real start ms>x<speed>`, e.g. `1700000000000@1700086400000x30`. */
export function formatClockSpec(spec: AcceleratedClockSpec): string {
  return `${Math.round(spec.epoch)}@${Math.round(spec.realStart)}x${spec.speed}`;
}

export function parseClockSpec(value: string): AcceleratedClockSpec {
  const m = /^(\d+)@(\d+)x(\d+(?:\.\d+)?)$/.exec(value.trim());
  if (!m) throw new Error(`WEAVER_CLOCK must look like <epoch ms>@<real start ms>x<speed>, got "${value}"`);
  const speed = Number(m[3]);
  if (!(speed > 0)) throw new Error('WEAVER_CLOCK speed must be > 0');
  return { epoch: Number(m[1]), realStart: Number(m[2]), speed };
}

let cached: { spec: string | undefined; clock: Clock } | undefined;

/** The process's clock: WEAVER_CLOCK when set, else the system clock. */
export function clock(): Clock {
  const spec = process.env.WEAVER_CLOCK || undefined;
  if (!cached || cached.spec !== spec) {
    cached = { spec, clock: spec ? acceleratedClock(parseClockSpec(spec)) : systemClock };
  }
  return cached.clock;
}
