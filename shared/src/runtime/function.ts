import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { type Bus, InvalidEventError, parseEnvelope, bus as processBus } from '../bus/index.ts';
import { ConfigError, env } from '../config/index.ts';
import { db } from '../db/client.ts';
import { ensureMigrated } from '../db/migrate.ts';
import { finishRun, startRun } from '../db/runs.ts';
import { type Logger, logger } from '../log/index.ts';
import { reportFunctionFailure } from '../notify/failures.ts';
import { EVENT_TYPES, type EventEnvelope } from '../schemas/index.ts';
import { HttpError, invalidInput } from './errors.ts';
import type { FaasContext, FaasEvent, FaasHandler } from './faas.ts';
import { functionEnv } from './function-env.ts';

/** Default body limit, as the template's MAX_JSON_SIZE default (100kb). */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024;

export interface RunContext {
  functionName: string;
  correlationId: string;
  /** The event that triggered this run, when a connector delivered one. */
  event: EventEnvelope | null;
  log: Logger;
  sql: Sql;
  bus(): Promise<Bus>;
}

export interface FunctionDefinition<S extends z.ZodType, R> {
  name: string;
  /** Schema of the input: the request body, or the payload of the event a connector delivered. */
  input: S;
  maxBodyBytes?: number;
  run(input: z.output<S>, ctx: RunContext): Promise<R>;
}

/** MAX_JSON_SIZE as the template's body-parser reads it ("1mb", "512kb", bytes): stack.yml sets it per function. */
function maxJsonSize(): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(functionEnv('MAX_JSON_SIZE')?.trim() ?? '');
  const unit: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
  return m ? Math.floor(Number(m[1]) * unit[(m[2] ?? 'b').toLowerCase()]) : undefined;
}

function header(event: FaasEvent, name: string): string | undefined {
  const v = event.headers[name] ?? event.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The body as JSON text's size and value, whatever body-parser made of it. */
function readBody(body: unknown): { value: unknown; bytes: number } {
  if (body === undefined || body === null || body === '') return { value: {}, bytes: 0 };
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    if (text.trim() === '') return { value: {}, bytes: 0 };
    try {
      return { value: JSON.parse(text), bytes: Buffer.byteLength(text) };
    } catch {
      throw new HttpError(400, 'invalid_json', 'body is not valid JSON', { body: 'is not valid JSON' });
    }
  }
  return { value: body, bytes: Buffer.byteLength(JSON.stringify(body)) };
}

const looksLikeEnvelope = (v: unknown): boolean =>
  typeof v === 'object' &&
  v !== null &&
  'type' in v &&
  'payload' in v &&
  (EVENT_TYPES as string[]).includes(String((v as { type: unknown }).type));

// One headers() call: the template's context.headers() replaces what was set before, it does not merge.
function respond(context: FaasContext, status: number, body: unknown, correlationId: string): unknown {
  context
    .status(status)
    .headers({ 'content-type': 'application/json', 'x-correlation-id': correlationId })
    .succeed(body);
  return body;
}

/**
 * Wraps a function's logic in the OpenFaaS handler contract: JSON parsing, a body limit, zod
 * validation with 400s naming the field, event envelopes from connectors, structured logs carrying the
 * correlation id, and one function_runs row per invocation. The logic returns its answer or throws an
 * HttpError; anything else is a 500 whose message is logged.
 */
export function defineFunction<S extends z.ZodType, R>(def: FunctionDefinition<S, R>): FaasHandler {
  return async (event, context) => {
    let correlationId = header(event, 'X-Correlation-Id') ?? header(event, 'X-Call-Id') ?? randomUUID();
    let log = logger().child({ fn: def.name, correlationId });
    let sql: Sql | undefined;
    let runId: number | undefined;
    let trigger = 'http';
    const started = performance.now();
    const finish = async (status: number, error: string | null): Promise<void> => {
      const outcome = status < 400 ? 'ok' : status < 500 ? 'rejected' : 'error';
      const ms = Math.round((performance.now() - started) * 10) / 10;
      if (status >= 500) log.error({ status, ms, err: error }, 'run failed');
      else if (status >= 400) log.warn({ status, ms, err: error }, 'run rejected');
      else log.info({ status, ms }, 'run ok');
      if (sql && runId !== undefined) {
        await finishRun(sql, runId, { outcome, statusCode: status, error }).catch((e) =>
          log.error({ err: (e as Error).message }, 'could not record the run'),
        );
      }
      if (sql && status >= 500) {
        const failed = {
          functionName: def.name,
          runId: runId ?? null,
          error: error ?? 'failed',
          correlationId,
        };
        await reportFunctionFailure(sql, processBus, failed, log);
      }
    };
    try {
      const { value, bytes } = readBody(event.body);
      // Read per invocation: the local runner hosts many functions, each with its own MAX_JSON_SIZE.
      const limit = def.maxBodyBytes ?? maxJsonSize() ?? DEFAULT_MAX_BODY_BYTES;
      if (bytes > limit) {
        throw new HttpError(413, 'payload_too_large', `body is ${bytes} bytes; the limit is ${limit}`, {
          body: `must be at most ${limit} bytes`,
        });
      }
      let envelope: EventEnvelope | null = null;
      let input: unknown = value;
      if (looksLikeEnvelope(value)) {
        try {
          envelope = parseEnvelope(value);
        } catch (e) {
          const issues = e instanceof InvalidEventError ? e.issues : [];
          throw new HttpError(
            400,
            'invalid_event',
            `invalid event: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            Object.fromEntries(issues.map((i) => [i.path || '(event)', i.message])),
          );
        }
        input = envelope.payload;
        correlationId = envelope.correlationId;
        trigger = `event:${envelope.type}`;
        log = logger().child({ fn: def.name, correlationId, event: envelope.type });
      }
      sql = db();
      if (env().WEAVER_AUTO_MIGRATE) await ensureMigrated(sql);
      runId = await startRun(sql, { functionName: def.name, correlationId, trigger });
      log = log.child({ runId });
      const parsed = def.input.safeParse(input);
      if (!parsed.success) throw invalidInput(parsed.error, envelope ? 'payload' : '');
      const result = await def.run(parsed.data, {
        functionName: def.name,
        correlationId,
        event: envelope,
        log,
        sql,
        bus: processBus,
      });
      await finish(200, null);
      return respond(context, 200, result ?? { ok: true }, correlationId);
    } catch (err) {
      if (err instanceof HttpError) {
        await finish(err.status, err.message);
        return respond(context, err.status, err.toBody(), correlationId);
      }
      if (err instanceof ConfigError) {
        await finish(500, err.message);
        return respond(
          context,
          500,
          { error: { code: 'config_invalid', message: err.message, fields: err.fields } },
          correlationId,
        );
      }
      const message = err instanceof Error ? err.message : String(err);
      await finish(500, message);
      return respond(context, 500, { error: { code: 'internal', message, fields: {} } }, correlationId);
    }
  };
}
