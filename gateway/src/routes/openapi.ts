import { z } from 'zod';
import { API_BASE_PATH } from '../base.ts';
import { openApiDocument } from '../openapi.ts';
import { defineRoute } from '../route.ts';

let cached: Record<string, unknown> | undefined;

export const openApiRoutes = [
  defineRoute({
    method: 'get',
    path: '/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document, generated from its zod schemas',
    tag: 'system',
    response: z.record(z.string(), z.unknown()),
    handler: async (_, { routes }) => {
      cached ??= openApiDocument(routes, API_BASE_PATH);
      return cached;
    },
  }),
];
