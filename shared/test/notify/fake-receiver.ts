import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/**
 * A local stand-in for Telegram, Discord, Slack and any webhook: records every request and answers
 * from a per-path script (first reply first; the last one repeats), 200 "ok" by default.
 */
export class FakeReceiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Reply[]>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep text
        }
        const path = (req.url ?? '/').split('?')[0];
        this.received.push({ method: req.method ?? '', path, headers: req.headers, body });
        const script = this.scripts.get(path) ?? [];
        const reply = (script.length > 1 ? script.shift() : script[0]) ?? { status: 200, body: 'ok' };
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  /** Replies for `path`, in order. */
  script(path: string, ...replies: Reply[]): void {
    this.scripts.set(path, replies);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  reset(): void {
    this.received.length = 0;
    this.scripts.clear();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
