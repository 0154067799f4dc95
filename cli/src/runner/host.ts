/**
 * Hosts the stack's functions in this process and invokes them the way the OpenFaaS gateway, of-watchdog
 * and the node22 template do together: body parsing by type and limit, the template's event/context,
 * exec_timeout, and the gateway's X-Call-Id / X-Start-Time / X-Duration-Seconds headers. HTTP requests,
 * cron ticks and bus messages all come through `invoke`, so every path sees the same behaviour.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parse as parseQuery } from 'node:querystring';
import { pathToFileURL } from 'node:url';
import type { Logger } from '@weaver/shared/log';
import { type FaasEvent, withFunctionEnvironment } from '@weaver/shared/runtime';
import { BodyError, parseBody } from './body.ts';
import type { Stack, StackFunction } from './stack.ts';
import { type HandlerResponse, runTemplateHandler, type TemplateHandler } from './template.ts';

export interface Invocation {
  method: string;
  /** The path the function sees: what follows /function/<name> (or the whole path for /api). */
  path: string;
  /** Raw query string, without "?". */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body bytes; null when the request had no body. */
  body: Buffer | null;
}

export interface Invoked extends HandlerResponse {
  callId: string;
  ms: number;
}

type Loaded = { handler: TemplateHandler; module: Record<string, unknown> } | { error: string };

/** A Web-standard request handler (`(Request) => Response`), as Hono and other fetch-style apps expose. */
export type FetchHandler = (request: Request) => Promise<Response> | Response;

const text = (status: number, message: string): HandlerResponse => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: Buffer.from(message),
});

export class FunctionHost {
  private readonly loaded = new Map<string, Loaded>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly byName: Map<string, StackFunction>;

  constructor(
    readonly stack: Stack,
    private readonly log: Logger,
  ) {
    this.byName = new Map(stack.functions.map((f) => [f.name, f]));
  }

  get functions(): StackFunction[] {
    return this.stack.functions;
  }

  fn(name: string): StackFunction | undefined {
    return this.byName.get(name);
  }

  /** Imports every function's handler module; one that fails is reported and answers 502, the rest run. */
  async load(): Promise<void> {
    for (const f of this.stack.functions) {
      if (!existsSync(f.source)) {
        this.loaded.set(f.name, { error: `${f.source} does not exist` });
        continue;
      }
      try {
        const mod = (await import(pathToFileURL(f.source).href)) as Record<string, unknown>;
        const handler = mod.default;
        if (typeof handler !== 'function') throw new Error('its default export is not a handler function');
        this.loaded.set(f.name, { handler: handler as TemplateHandler, module: mod });
      } catch (e) {
        this.loaded.set(f.name, { error: (e as Error).message });
      }
    }
  }

  /**
   * The function module's named `fetch` export, when it has one: a function that can also answer plain
   * Web requests (the gateway), which the runner serves directly so event streams stay open.
   */
  fetchHandler(name: string): FetchHandler | undefined {
    const l = this.loaded.get(name);
    const f = l && 'module' in l ? l.module.fetch : undefined;
    return typeof f === 'function' ? (f as FetchHandler) : undefined;
  }

  /** Calls each function module's named `close` export, if any (open event streams, worker pools). */
  async closeModules(): Promise<void> {
    for (const [name, l] of this.loaded) {
      const close = 'module' in l ? l.module.close : undefined;
      if (typeof close !== 'function') continue;
      try {
        await (close as () => unknown)();
      } catch (e) {
        this.log.warn({ fn: name, err: (e as Error).message }, 'function module did not close cleanly');
      }
    }
  }

  /** Whether the function's handler loaded (triggers are only wired for those). */
  available(name: string): boolean {
    const l = this.loaded.get(name);
    return l !== undefined && 'handler' in l;
  }

  /** Functions that could not be loaded, with the reason. */
  unavailable(): { name: string; error: string }[] {
    const out: { name: string; error: string }[] = [];
    for (const [name, l] of this.loaded) if ('error' in l) out.push({ name, error: l.error });
    return out;
  }

  async invoke(name: string, inv: Invocation, opts: { callId?: string } = {}): Promise<Invoked> {
    const callId = opts.callId ?? randomUUID();
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const t0 = performance.now();
    const work = this.run(name, inv, callId, startedNs);
    this.inFlight.add(work);
    try {
      const res = await work;
      const ms = performance.now() - t0;
      res.headers['x-call-id'] = callId;
      res.headers['x-start-time'] = String(startedNs);
      res.headers['x-duration-seconds'] = (ms / 1000).toFixed(6);
      return { ...res, callId, ms };
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async run(
    name: string,
    inv: Invocation,
    callId: string,
    startedNs: bigint,
  ): Promise<HandlerResponse> {
    const f = this.byName.get(name);
    if (!f) return text(404, `error finding function ${name}: not in stack.yml`);
    const l = this.loaded.get(name);
    if (!l) return text(502, `function ${name} is not loaded`);
    if ('error' in l) return text(502, `function ${name} is unavailable: ${l.error}`);

    // The template treats a request without content-type as text/plain before parsing.
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(inv.headers)) if (v !== undefined) headers[k.toLowerCase()] = v;
    headers['content-type'] ??= 'text/plain';
    headers['x-call-id'] = callId;
    headers['x-start-time'] = String(startedNs);
    const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

    let body: unknown;
    try {
      body = parseBody(
        inv.body,
        {
          'content-type': first(headers['content-type']),
          'content-encoding': first(headers['content-encoding']),
        },
        f,
      );
    } catch (e) {
      if (e instanceof BodyError) return text(e.status, `${e.name}: ${e.message}`);
      throw e;
    }
    const event: FaasEvent = {
      body,
      headers,
      method: inv.method.toUpperCase(),
      query: { ...parseQuery(inv.query) },
      path: inv.path || '/',
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<HandlerResponse>((resolve) => {
      timer = setTimeout(() => {
        this.log.error(
          { fn: name, callId, execTimeoutMs: f.execTimeoutMs },
          'function exceeded exec_timeout',
        );
        resolve(text(504, `function ${name} timed out after ${f.execTimeoutMs} ms (exec_timeout)`));
      }, f.execTimeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([
        withFunctionEnvironment(f.environment, () => runTemplateHandler(l.handler, event)),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Number of invocations still running. */
  get busy(): number {
    return this.inFlight.size;
  }

  /** Waits for running invocations (shutdown), at most `ms`. Returns how many were still running. */
  async drain(ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.inFlight.size && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
      ]);
    }
    return this.inFlight.size;
  }
}
