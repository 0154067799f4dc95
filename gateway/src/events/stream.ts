/**
 * Server-sent events for the browser. Every message carries `id:` (its resume point), so the browser's
 * reconnect (EventSource or fetch) sends Last-Event-ID and continues where it stopped.
 *
 * Two transports, one format:
 * - streaming (the app served by Node, as the local runner and the benchmark do): the response stays
 *   open, with a comment line every heartbeat interval so proxies keep it;
 * - buffered (behind the OpenFaaS node template, whose handler answers a whole body): the response ends
 *   after the first batch of events, or after the window with only a heartbeat, and tells the browser to
 *   reconnect at once (`retry:`). Events are never lost between windows: the next request resumes at the
 *   last id. Long polling, spoken in SSE, so the same client code works through both.
 */
import type { StreamReady } from '@weaver/shared/schemas';
import type { Feed } from './feeds.ts';

const encoder = new TextEncoder();
/** Streams open in this process, closed by closeEventStreams() on shutdown. */
const open = new Set<() => void>();

export interface StreamOptions {
  buffered: boolean;
  heartbeatMs: number;
  /** Longest a buffered answer waits for the first event. */
  windowMs: number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
}

/** Coalescing delay of a buffered answer after its first event, so a burst goes out in one response. */
const BUFFERED_LINGER_MS = 50;

const message = (id: string, data: unknown, event?: string): string =>
  `id: ${id}\n${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

export function eventStreamResponse(feed: Feed, opts: StreamOptions): Response {
  let stop: () => void = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let done = false;
      let heartbeat: ReturnType<typeof setInterval> | undefined;
      const send = (text: string): void => {
        if (!done) controller.enqueue(encoder.encode(text));
      };
      stop = () => {
        if (done) return;
        done = true;
        open.delete(stop);
        clearInterval(heartbeat);
        opts.signal?.removeEventListener('abort', stop);
        void feed.close();
        try {
          controller.close();
        } catch {
          // already closed or cancelled by the reader
        }
      };
      open.add(stop);
      opts.signal?.addEventListener('abort', stop);

      const ready: StreamReady = { mode: feed.mode, lastEventId: feed.readyId, gap: feed.gap };
      send(`retry: ${opts.buffered ? 250 : 2000}\n`);
      send(message(feed.readyId, ready, 'ready'));
      if (!opts.buffered) {
        heartbeat = setInterval(() => send(': ping\n\n'), opts.heartbeatMs);
        heartbeat.unref?.();
      }

      void (async () => {
        const deadline = Date.now() + opts.windowMs;
        try {
          while (!done) {
            const wait = opts.buffered ? Math.max(0, deadline - Date.now()) : opts.heartbeatMs;
            const batch = await feed.take(wait);
            if (batch === null) break;
            for (const item of batch) send(message(item.id, item.envelope));
            if (!opts.buffered) continue;
            if (batch.length > 0) {
              const more = await feed.take(BUFFERED_LINGER_MS);
              for (const item of more ?? []) send(message(item.id, item.envelope));
              break;
            }
            if (Date.now() >= deadline) {
              send(': ping\n\n');
              break;
            }
          }
        } finally {
          stop();
        }
      })();
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    },
  });
}

/** Ends every open event stream (graceful shutdown): clients reconnect to the next process. */
export function closeEventStreams(): void {
  for (const stop of [...open]) stop();
}

export const openEventStreams = (): number => open.size;
