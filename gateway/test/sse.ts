/** A minimal SSE reader for tests: reads a fetch body and splits it into messages as a browser would. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

export function parseSse(text: string): SseMessage[] {
  const out: SseMessage[] = [];
  for (const block of text.split(/\n\n/)) {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) out.push({ id, event, data: data.join('\n') });
  }
  return out;
}

export interface OpenStream {
  status: number;
  /** Resolves once `count` messages (after those already taken) arrived; rejects after `timeoutMs`. */
  take(count: number, timeoutMs?: number): Promise<SseMessage[]>;
  /** Messages received but not taken yet, after waiting `ms`. */
  drain(ms: number): Promise<SseMessage[]>;
  close(): void;
}

export async function openStream(url: string, headers: Record<string, string>): Promise<OpenStream> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const queue: SseMessage[] = [];
  let buffer = '';
  let wake = null as (() => void) | null;
  if (res.body) {
    void (async () => {
      const reader = (res.body as ReadableStream<BufferSource>)
        .pipeThrough(new TextDecoderStream())
        .getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          const end = buffer.lastIndexOf('\n\n');
          if (end >= 0) {
            queue.push(...parseSse(buffer.slice(0, end + 2)));
            buffer = buffer.slice(end + 2);
            wake?.();
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    status: res.status,
    async take(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} SSE messages, got ${queue.length}: ${JSON.stringify(queue)}`);
        }
        await Promise.race([new Promise<void>((r) => (wake = r)), sleep(50)]);
      }
      return queue.splice(0, count);
    },
    async drain(ms) {
      await sleep(ms);
      return queue.splice(0, queue.length);
    },
    close() {
      controller.abort();
    },
  };
}
