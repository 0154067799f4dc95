/**
 * What every fake venue shares: a real HTTP server on 127.0.0.1, routes by method and path template,
 * a log of every request, and fault injection — any route can answer an error status, respond slowly
 * or drop the connection, before or after the request took effect, N times, after M clean requests.
 * A venue subclass supplies its routes, its error envelope and its authentication.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { resetEnv } from '../../config/index.ts';

/**
 * Sets environment variables for a test (and re-reads the configuration); the returned function puts
 * the environment back exactly as it was.
 */
export function overrideEnv(vars: Record<string, string>): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, vars);
  resetEnv();
  return () => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    resetEnv();
  };
}

export type FaultMode =
  /** Answer `status` without doing anything. */
  | 'status'
  /** Do the work, then answer `status` (the client cannot know it happened). */
  | 'status-after'
  /** Close the socket without doing anything. */
  | 'drop'
  /** Do the work, then close the socket without an answer. */
  | 'drop-after'
  /** Wait `delayMs`, then do the work and answer (a client with a shorter timeout gives up first). */
  | 'delay';

export interface Fault {
  /** Route id such as `POST /v2/orders`; `*` matches every route. */
  route: string;
  mode: FaultMode;
  status?: number;
  delayMs?: number;
  /** With a 429: seconds until the venue takes requests again (sent the venue's way). */
  retryAfterS?: number;
  /** How many requests it hits. */
  times: number;
  /** Lets this many requests to the route pass (or meet other faults) before it starts hitting. */
  after?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  route: string;
  query: Record<string, string>;
  /** Status answered, `dropped`, or `pending` while a delayed request is still being held. */
  outcome: number | 'dropped' | 'pending';
  /** The fault that hit it, if any. */
  fault?: FaultMode;
}

export interface VenueRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The query string and the body exactly as sent (signatures are computed over them). */
  rawQuery: string;
  rawBody: string;
  headers: IncomingHttpHeaders;
}

export interface VenueAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Thrown by a route handler to answer with an error. */
export class VenueReply extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface VenueRoute<A = unknown> {
  id: string;
  method: string;
  pattern: RegExp;
  keys: string[];
  /** Venue-specific authentication class of the route (checked by `authorize`). */
  auth: A;
  handle(req: VenueRequest): VenueAnswer;
}

/** A route from an id `METHOD /path/{param}`; `{name}` matches one path segment. */
export function route<A>(id: string, auth: A, handle: (req: VenueRequest) => VenueAnswer): VenueRoute<A> {
  const [method, path] = id.split(' ');
  const keys: string[] = [];
  const src = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{([a-z_]+)\\\}/g, (_, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  return { id, method, pattern: new RegExp(`^${src}$`), keys, auth, handle };
}

export abstract class FakeVenue<A = unknown> {
  readonly requests: RequestRecord[] = [];
  url = '';
  private faults: Fault[] = [];
  private server: Server | null = null;
  private table: VenueRoute<A>[] | null = null;

  /** The venue's routes, built once on first request. */
  protected abstract routes(): VenueRoute<A>[];
  /** The venue's answer for an error status (an injected fault, an unknown path). */
  protected abstract errorAnswer(status: number, message?: string, fault?: Fault): VenueAnswer;
  /** The venue's error answer for a VenueReply a handler threw. */
  protected abstract replyAnswer(reply: VenueReply): VenueAnswer;
  /** Null when the request may proceed, else the venue's refusal. */
  protected authorize(_route: VenueRoute<A>, _req: VenueRequest): VenueAnswer | null {
    return null;
  }
  /** Headers on every answer (rate-limit counters and the like). */
  protected baseHeaders(): Record<string, string> {
    return {};
  }

  protected async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.serve(req, res).catch((err) => {
        if (!res.headersSent) this.send(res, { status: 500, body: { message: String(err) } });
      });
    });
    server.keepAliveTimeout = 1000;
    this.server = server;
    await new Promise<void>((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Makes the next `times` (default 1) requests to `route` misbehave. */
  inject(fault: Omit<Fault, 'times'> & { times?: number }): void {
    this.faults.push({ times: 1, ...fault });
  }

  clearFaults(): void {
    this.faults = [];
  }

  requestsTo(routeId: string): RequestRecord[] {
    return this.requests.filter((r) => r.route === routeId);
  }

  private takeFault(routeId: string): Fault | undefined {
    let hit: Fault | undefined;
    for (const f of this.faults) {
      if (f.times <= 0 || (f.route !== routeId && f.route !== '*')) continue;
      if (f.after) f.after--;
      else hit ??= f;
    }
    if (hit) hit.times--;
    return hit;
  }

  private send(res: ServerResponse, a: VenueAnswer): void {
    if (res.destroyed) return;
    if (a.status === 204 || a.body === undefined) {
      res.writeHead(a.status, { ...this.baseHeaders(), ...a.headers });
      res.end();
      return;
    }
    res.writeHead(a.status, {
      'content-type': 'application/json; charset=UTF-8',
      ...this.baseHeaders(),
      ...a.headers,
    });
    res.end(JSON.stringify(a.body));
  }

  private parseBody(raw: string, contentType: string | undefined): Record<string, unknown> | null {
    if (!raw) return {};
    if (contentType?.includes('application/x-www-form-urlencoded'))
      return Object.fromEntries(new URLSearchParams(raw));
    try {
      const v = JSON.parse(raw);
      return typeof v === 'object' && v !== null ? v : {};
    } catch {
      return null;
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const record: RequestRecord = {
      method,
      path: url.pathname,
      route: 'unmatched',
      query: Object.fromEntries(url.searchParams),
      outcome: 'pending',
    };
    this.requests.push(record);
    const answer = (a: VenueAnswer): void => {
      record.outcome = a.status;
      this.send(res, a);
    };
    const drop = (): void => {
      record.outcome = 'dropped';
      req.socket.destroy();
    };

    this.table ??= this.routes();
    let match: { r: VenueRoute<A>; params: Record<string, string> } | undefined;
    for (const r of this.table) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(url.pathname);
      if (m) {
        match = { r, params: Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])])) };
        break;
      }
    }
    if (!match) return answer(this.errorAnswer(404, `no route ${method} ${url.pathname}`));
    record.route = match.r.id;
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const body = this.parseBody(rawBody, req.headers['content-type']);
    if (body === null) return answer(this.errorAnswer(400, 'invalid JSON body'));
    const request: VenueRequest = {
      params: match.params,
      query: url.searchParams,
      body,
      rawQuery: url.search.slice(1),
      rawBody,
      headers: req.headers,
    };
    const refused = this.authorize(match.r, request);
    if (refused) return answer(refused);

    const fault = this.takeFault(match.r.id);
    if (fault) record.fault = fault.mode;
    if (fault?.mode === 'drop') return drop();
    if (fault?.mode === 'status') return answer(this.errorAnswer(fault.status ?? 500, undefined, fault));
    if (fault?.mode === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));

    let out: VenueAnswer;
    try {
      out = match.r.handle(request);
    } catch (err) {
      if (!(err instanceof VenueReply)) throw err;
      out = this.replyAnswer(err);
    }
    if (fault?.mode === 'drop-after') return drop();
    if (fault?.mode === 'status-after')
      return answer(this.errorAnswer(fault.status ?? 500, undefined, fault));
    answer(out);
  }
}
