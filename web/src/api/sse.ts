/**
 * A server-sent-events reader over fetch. Unlike EventSource it can send the Authorization header (the token
 * never goes into a URL, where proxies and logs would keep it) and the Last-Event-ID of a reconnect, which the
 * gateway uses to replay what was missed from the JetStream sequence.
 */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** Feeds chunks of an SSE stream and yields complete messages (spec: blank line ends a message). */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    let nl = this.buffer.search(/\r\n|\r|\n/);
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      const skip = this.buffer.startsWith('\r\n', nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + skip);
      const msg = this.line(line);
      if (msg) out.push(msg);
      nl = this.buffer.search(/\r\n|\r|\n/);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return null;
      }
      const msg = { id: this.id, event: this.event || 'message', data: this.data.join('\n') };
      this.data = [];
      this.event = '';
      return msg;
    }
    if (line.startsWith(':')) return null; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return null;
  }
}

export interface SseOptions {
  url: string;
  headers: () => Record<string, string>;
  onMessage: (msg: SseMessage) => void;
  onStatus: (status: 'connecting' | 'open' | 'closed', error?: unknown) => void;
  /** Stop retrying on these (e.g. 401: the token was revoked). */
  isFatal?: (status: number) => boolean;
}

/**
 * Holds the stream open, resuming from the last id seen. A stream that ends cleanly is reopened at once
 * (behind the OpenFaaS gateway a response is bounded, so the gateway ends each stream after a window); a
 * failure retries with backoff. Returns stop().
 */
export function openSse(opts: SseOptions): () => void {
  let stopped = false;
  let lastId: string | null = null;
  let controller: AbortController | null = null;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connect = async () => {
    if (stopped) return;
    controller = new AbortController();
    if (failures > 0) opts.onStatus('connecting');
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...opts.headers() };
      if (lastId !== null) headers['last-event-id'] = lastId;
      const res = await fetch(opts.url, { headers, signal: controller.signal, cache: 'no-store' });
      if (!res.ok || !res.body) {
        if (opts.isFatal?.(res.status)) {
          stopped = true;
          opts.onStatus('closed', new Error(`event stream refused: HTTP ${res.status}`));
          return;
        }
        throw new Error(`event stream answered HTTP ${res.status}`);
      }
      failures = 0;
      opts.onStatus('open');
      const openedAt = Date.now();
      let received = 0;
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const msg of parser.push(value)) {
          if (msg.id !== null) lastId = msg.id;
          received++;
          opts.onMessage(msg);
        }
      }
      // A bounded stream that carried something is reopened at once; one that ended empty and quickly
      // (a proxy cutting it) waits a second, so a misbehaving hop cannot turn this into a busy loop.
      timer = setTimeout(connect, received === 0 && Date.now() - openedAt < 1000 ? 1000 : 0);
    } catch (err) {
      if (stopped) return;
      failures++;
      opts.onStatus('closed', err);
      // 0.5 s, 1 s, 2 s … capped at 15 s: quick after a blip, gentle while the server is down.
      timer = setTimeout(connect, Math.min(15_000, 250 * 2 ** failures));
    }
  };
  opts.onStatus('connecting');
  void connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller?.abort();
  };
}
