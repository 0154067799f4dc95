import type { EventEnvelope, EventType, StreamReady } from '@weaver/shared/schemas';
import { useEffect, useSyncExternalStore } from 'react';
import { useSWRConfig } from 'swr';
import { authHeaders } from './client.ts';
import { openSse } from './sse.ts';
import { clearToken, readToken } from './token.ts';

/** One event as the browser received it; `seq` is the stream id (the JetStream sequence). */
export interface LiveEvent {
  seq: string | null;
  envelope: EventEnvelope;
  receivedAt: number;
}

export type LiveStatus = 'connecting' | 'open' | 'closed';

const MAX_EVENTS = 500;

/** The recent events and the connection state, shared by the activity feed and the System log view. */
class LiveStore {
  events: LiveEvent[] = [];
  status: LiveStatus = 'closed';
  private listeners = new Set<() => void>();
  private version = 0;

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  getVersion = () => this.version;

  add(e: LiveEvent) {
    // A resumed stream can repeat the event at the resume point; keep one copy.
    if (e.envelope.id && this.events.some((x) => x.envelope.id === e.envelope.id)) return;
    this.events = [e, ...this.events].slice(0, MAX_EVENTS);
    this.bump();
  }
  setStatus(s: LiveStatus) {
    if (s === this.status) return;
    this.status = s;
    this.bump();
  }
  clear() {
    this.events = [];
    this.bump();
  }
  private bump() {
    this.version++;
    for (const l of this.listeners) l();
  }
}

export const liveStore = new LiveStore();

export function useLiveEvents(): { events: LiveEvent[]; status: LiveStatus } {
  useSyncExternalStore(liveStore.subscribe, liveStore.getVersion, liveStore.getVersion);
  return { events: liveStore.events, status: liveStore.status };
}

/** Which cached reads an event makes stale (SWR keys are gateway paths; matched by prefix). */
export const STALE_AFTER: Record<EventType, string[]> = {
  'bars.fetched': ['/api/bars', '/api/account', '/api/positions'],
  'signals.created': ['/api/signals', '/api/strategies'],
  'orders.updated': ['/api/orders', '/api/positions', '/api/account', '/api/strategies'],
  'trades.recorded': ['/api/trades', '/api/positions', '/api/account', '/api/strategies', '/api/pnl'],
  'risk.halted': ['/api/system', '/api/kill-switch', '/api/orders', '/api/account', '/api/strategies'],
  'risk.resumed': ['/api/system', '/api/kill-switch', '/api/account', '/api/strategies'],
  'positions.drift': ['/api/positions', '/api/system'],
  'strategies.changed': ['/api/strategies'],
  'protection.due': [],
  'backtests.progress': ['/api/backtests'],
  'backtests.completed': ['/api/backtests'],
  'functions.failed': ['/api/system'],
};

/**
 * Keeps the event stream open while logged in and turns events into SWR revalidations, coalesced so a burst
 * of fills refetches each view once. Mount once, inside the SWRConfig.
 */
export function useEventStream(url = '/api/events'): void {
  const { mutate } = useSWRConfig();
  useEffect(() => {
    const pending = new Set<string>();
    let flush: ReturnType<typeof setTimeout> | undefined;
    const schedule = (prefixes: string[]) => {
      for (const p of prefixes) pending.add(p);
      flush ??= setTimeout(() => {
        flush = undefined;
        const prefixes = [...pending];
        pending.clear();
        void mutate((key) => typeof key === 'string' && prefixes.some((p) => key.startsWith(p)));
      }, 250);
    };
    const stop = openSse({
      url,
      headers: () => authHeaders(readToken()),
      isFatal: (status) => {
        if (status === 401) clearToken();
        return status === 401 || status === 403;
      },
      onStatus: (s) => liveStore.setStatus(s),
      onMessage: (msg) => {
        let data: unknown;
        try {
          data = JSON.parse(msg.data);
        } catch {
          return; // not JSON: nothing to update
        }
        if (msg.event === 'ready') {
          // Events after our resume point are gone (retention, a new stream): every view may be stale.
          if ((data as StreamReady).gap) void mutate(() => true);
          return;
        }
        const envelope = data as EventEnvelope;
        if (!envelope || typeof envelope.type !== 'string') return;
        liveStore.add({ seq: msg.id, envelope, receivedAt: Date.now() });
        const stale = STALE_AFTER[envelope.type as EventType];
        if (stale) schedule(stale);
      },
    });
    return () => {
      stop();
      clearTimeout(flush);
      // Logged out: the next session starts with an empty feed.
      liveStore.clear();
      liveStore.setStatus('closed');
    };
  }, [mutate, url]);
}
