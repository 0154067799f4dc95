/** The pipeline's controls, called from API routes with a context built from the gateway's dependencies. */
import { randomUUID } from 'node:crypto';
import { logger } from '@weaver/shared/log';
import type { PipelineContext } from '@weaver/shared/pipeline';
import { HttpError } from '@weaver/shared/runtime';
import type { Context } from 'hono';
import type { Deps } from './deps.ts';

export function pipelineContext(deps: Deps, c: Context): PipelineContext {
  const correlationId = c.req.header('x-correlation-id')?.slice(0, 200) || randomUUID();
  return {
    sql: deps.sql(),
    bus: deps.bus,
    correlationId,
    log: logger().child({ fn: 'gateway', correlationId }),
  };
}

/**
 * Runs pipeline work and renames the fields of its 4xx answers to the API's input names (the pipeline
 * names them as place-order's body has them: `order.symbol`; this API's body is the order: `symbol`).
 */
export async function withFieldNames<T>(
  rename: (field: string) => string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    const fields = Object.fromEntries(Object.entries(err.fields).map(([k, v]) => [rename(k), v]));
    throw new HttpError(err.status, err.code, err.message, fields);
  }
}
