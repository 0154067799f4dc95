import { env } from '../config/index.ts';
import { MemoryBus } from './memory.ts';
import { NatsBus } from './nats.ts';
import type { Bus } from './types.ts';

export * from './emit.ts';
export * from './envelope.ts';
export * from './memory.ts';
export * from './nats.ts';
export * from './subjects.ts';
export * from './types.ts';

let shared: Promise<Bus> | undefined;

/** The process's bus: NATS (JetStream) when NATS_URL is set, else the in-process bus. */
export function bus(): Promise<Bus> {
  if (!shared) {
    const e = env();
    shared = e.NATS_URL
      ? NatsBus.connect({ url: e.NATS_URL, prefix: e.WEAVER_SUBJECT_PREFIX, stream: e.WEAVER_STREAM })
      : Promise.resolve(new MemoryBus(e.WEAVER_SUBJECT_PREFIX));
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

/** Use `b` as the process's bus (the local runner shares one with every function it hosts). */
export function setBus(b: Bus): void {
  shared = Promise.resolve(b);
}

export async function closeBus(): Promise<void> {
  const b = shared;
  shared = undefined;
  await (await b?.catch(() => undefined))?.close();
}
