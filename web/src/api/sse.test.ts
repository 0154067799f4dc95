import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openSse, type SseMessage, SseParser } from './sse.ts';

describe('SseParser', () => {
  it('assembles messages split anywhere across chunks, in any line ending', () => {
    const p = new SseParser();
    const out: SseMessage[] = [];
    for (const chunk of [
      'id: 1\nev',
      'ent: ready\ndata: {"a":',
      '1}\n\n: ping\n\nid: 2\r\ndata: x\r\ndata: y\r\n',
      '\r\n',
    ]) {
      out.push(...p.push(chunk));
    }
    expect(out).toEqual([
      { id: '1', event: 'ready', data: '{"a":1}' },
      { id: '2', event: 'message', data: 'x\ny' },
    ]);
  });

  it('keeps the last id for messages that carry none, and ignores retry and unknown fields', () => {
    const p = new SseParser();
    expect(p.push('retry: 250\nid: 9\ndata: a\n\ndata: b\nfoo: bar\n\n')).toEqual([
      { id: '9', event: 'message', data: 'a' },
      { id: '9', event: 'message', data: 'b' },
    ]);
  });
});

describe('openSse against a real HTTP server', () => {
  let server: Server | undefined;
  let stop: (() => void) | undefined;
  afterEach(async () => {
    stop?.();
    await new Promise((r) => server?.close(r) ?? r(null));
    server = undefined;
  });

  async function serve(handler: (req: IncomingMessage, n: number) => string | number): Promise<string> {
    let n = 0;
    server = createServer((req, res) => {
      const out = handler(req, n++);
      if (typeof out === 'number') {
        res.writeHead(out, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(out);
    });
    const listening = server;
    await new Promise<void>((r) => listening.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(listening.address() as AddressInfo).port}/api/events`;
  }

  it('resumes after the stream ends with the last id it saw, sending the token as a header', async () => {
    const seen: Array<{ auth?: string; last?: string }> = [];
    const url = await serve((req, n) => {
      seen.push({
        auth: req.headers.authorization,
        last: req.headers['last-event-id'] as string | undefined,
      });
      if (n === 0) return 'id: 4\nevent: ready\ndata: {}\n\nid: 5\ndata: "five"\n\nid: 6\ndata: "six"\n\n';
      return `id: ${n + 6}\ndata: "more"\n\n`;
    });
    const got: SseMessage[] = [];
    await new Promise<void>((done) => {
      stop = openSse({
        url,
        headers: () => ({ authorization: 'Bearer t0ken' }),
        onStatus: () => {},
        onMessage: (m) => {
          got.push(m);
          if (got.length === 4) done();
        },
      });
    });
    expect(got.map((m) => m.id)).toEqual(['4', '5', '6', '7']);
    expect(seen[0]).toEqual({ auth: 'Bearer t0ken', last: undefined });
    expect(seen[1]).toEqual({ auth: 'Bearer t0ken', last: '6' });
  });

  it('gives up on a refused token instead of retrying', async () => {
    let requests = 0;
    const url = await serve(() => {
      requests++;
      return 401;
    });
    const statuses: string[] = [];
    await new Promise<void>((done) => {
      stop = openSse({
        url,
        headers: () => ({}),
        isFatal: (s) => s === 401,
        onMessage: () => {},
        onStatus: (s) => {
          statuses.push(s);
          if (s === 'closed') done();
        },
      });
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(requests).toBe(1);
    expect(statuses).toEqual(['connecting', 'closed']);
  });

  it('retries with backoff while the server fails', async () => {
    const times: number[] = [];
    const url = await serve((_req, n) => {
      times.push(Date.now());
      return n < 2 ? 503 : 'id: 1\ndata: "ok"\n\n';
    });
    const got = await new Promise<SseMessage>((done) => {
      stop = openSse({ url, headers: () => ({}), onStatus: () => {}, onMessage: done });
    });
    expect(got.data).toBe('"ok"');
    expect(times.length).toBeGreaterThanOrEqual(3);
    // 500 ms then 1 s: the second wait is the longer one.
    expect(times[2] - times[1]).toBeGreaterThan(times[1] - times[0]);
  });

  it('does not spin when a hop keeps ending the stream empty at once', async () => {
    let requests = 0;
    const url = await serve(() => {
      requests++;
      return '';
    });
    stop = openSse({ url, headers: () => ({}), onStatus: () => {}, onMessage: () => {} });
    await new Promise((r) => setTimeout(r, 1500));
    // One at once, then one a second: a busy loop would have made hundreds.
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(requests).toBeLessThanOrEqual(3);
  });
});
