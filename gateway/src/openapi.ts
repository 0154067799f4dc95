/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas (zod's own JSON Schema output,
 * draft 2020-12, which OpenAPI 3.1 uses as is). Every schema exported by @weaver/shared/schemas becomes
 * a named component referenced where it is used; a schema whose request form differs from its answer
 * form (defaults, coercions, transforms) gets a second component suffixed `_input`.
 */
import { isDeepStrictEqual } from 'node:util';
import * as schemas from '@weaver/shared/schemas';
import { z } from 'zod';
import type { RouteDef } from './route.ts';

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

const ERROR_STATUSES: Record<number, string> = {
  400: 'Invalid input: `fields` names each bad field',
  401: 'Missing or wrong API token',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Refused (risk checks, exchange refusal, unusable strategy)',
  429: 'Too many requests (Retry-After says when to retry)',
  503: 'A dependency (exchange, database, token configuration) is unavailable',
};

function namedSchemas(): z.core.$ZodRegistry<{ id: string }> {
  const registry = z.registry<{ id: string }>();
  for (const [name, value] of Object.entries(schemas)) {
    if (value instanceof z.ZodType && !registry.has(value)) registry.add(value, { id: name });
  }
  return registry;
}

function mapRefs(node: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(node)) return node.map((n) => mapRefs(n, rename));
  if (node && typeof node === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] =
        k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
          ? rename(v.slice(8))
          : mapRefs(v, rename);
    }
    return out;
  }
  return node;
}

class Components {
  readonly schemas: Record<string, Json> = {};
  constructor(private readonly registry: z.core.$ZodRegistry<{ id: string }>) {}

  /** The JSON Schema of `schema` for requests (`input`) or answers (`output`), its named parts moved to components. */
  add(schema: z.ZodType, io: Io): Json {
    const generated = z.toJSONSchema(schema, {
      metadata: this.registry,
      io,
      unrepresentable: 'any',
      target: 'draft-2020-12',
    }) as Json;
    const defs = (generated.$defs ?? {}) as Record<string, Json>;
    delete generated.$defs;
    delete generated.$schema;
    // Pick each def's component name: its own, or `<name>_input` where the request form differs.
    const names = new Map(Object.keys(defs).map((n) => [n, n]));
    const ref = (n: string): string => `#/components/schemas/${names.get(n) ?? n}`;
    for (let changed = true; changed; ) {
      changed = false;
      for (const [n, def] of Object.entries(defs)) {
        if (names.get(n) !== n) continue;
        const existing = this.schemas[n];
        if (existing && !isDeepStrictEqual(existing, mapRefs(def, ref))) {
          names.set(n, `${n}_${io}`);
          changed = true;
        }
      }
    }
    for (const [n, def] of Object.entries(defs))
      this.schemas[names.get(n) as string] ??= mapRefs(def, ref) as Json;
    return mapRefs(generated, ref) as Json;
  }
}

const toOpenApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function operationId(route: RouteDef): string {
  const words = route.path
    .split('/')
    .filter(Boolean)
    .map((p) => (p.startsWith(':') ? `by-${p.slice(1)}` : p))
    .join('-')
    .split(/[-.]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return `${route.method}${words.join('')}`;
}

function parametersOf(c: Components, schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const js = c.add(schema, 'input');
  const resolved = typeof js.$ref === 'string' ? c.schemas[js.$ref.split('/').pop() as string] : js;
  const props = (resolved?.properties ?? {}) as Record<string, Json>;
  const required = new Set((resolved?.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

export function openApiDocument(routes: readonly RouteDef[], base: string): Json {
  const c = new Components(namedSchemas());
  const errorRef = c.add(schemas.ApiErrorBody, 'output');
  const paths: Record<string, Record<string, Json>> = {};
  // Answers first, so request forms that equal them share their component.
  const answers = new Map(routes.map((r) => [r, r.response ? c.add(r.response, 'output') : null]));
  for (const route of routes) {
    const path = `${base}${toOpenApiPath(route.path)}`;
    const status = String(route.status ?? 200);
    const answer = answers.get(route);
    const responses: Json = {
      [status]: {
        description: route.summary,
        ...(answer
          ? { content: { 'application/json': { schema: answer } } }
          : route.produces
            ? { content: { [route.produces]: { schema: { type: 'string' } } } }
            : {}),
      },
    };
    const mutation = route.method !== 'get';
    const errors: number[] = [];
    if (route.query || route.body || route.params) errors.push(400);
    if (route.auth !== false) errors.push(401);
    if (route.params) errors.push(404);
    if (route.body) errors.push(413, 415);
    if (mutation) errors.push(409, 422, 429);
    errors.push(503);
    for (const s of errors.sort((a, b) => a - b)) {
      responses[s] = {
        description: ERROR_STATUSES[s],
        content: { 'application/json': { schema: errorRef } },
      };
    }
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: operationId(route),
      summary: route.summary,
      tags: [route.tag],
      ...(route.auth === false ? { security: [] } : {}),
      parameters: [...parametersOf(c, route.params, 'path'), ...parametersOf(c, route.query, 'query')],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: c.add(route.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Weaver API',
      version: '1',
      description:
        'The control API of the Weaver trading bot. Send `Authorization: Bearer <token>` (secret weaver-api-token). ' +
        'Errors are `{ error: { code, message, fields } }`. Lists are keyset-paginated: pass `nextCursor` as `cursor`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(c.schemas).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The API token' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'weaver_session',
          description: 'From POST /api/session; GET routes only (lets a plain EventSource authenticate)',
        },
      },
    },
  };
}
