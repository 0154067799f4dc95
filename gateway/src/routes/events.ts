import { HttpError } from '@weaver/shared/runtime';
import { StreamQuery } from '@weaver/shared/schemas';
import { openFeed } from '../events/feeds.ts';
import { eventStreamResponse } from '../events/stream.ts';
import { defineRoute } from '../route.ts';
import { TRANSPORT_HEADER } from '../transport.ts';

export const eventRoutes = [
  defineRoute({
    method: 'get',
    path: '/events',
    summary:
      'Live events (text/event-stream): every `weaver.>` event as `id: <seq>` + `data: <envelope JSON>`; send Last-Event-ID to resume without losing any',
    tag: 'events',
    query: StreamQuery,
    response: null,
    produces: 'text/event-stream',
    handler: async ({ query }, { deps, c }) => {
      const last = c.req.header('last-event-id')?.trim();
      if (last && !/^\d{1,16}$/.test(last)) {
        throw new HttpError(
          400,
          'invalid_input',
          'invalid input: last-event-id: must be an id this stream sent',
          {
            'last-event-id': 'must be an id this stream sent',
          },
        );
      }
      const feed = await openFeed(deps.sql(), await deps.bus(), {
        after: last ? Number(last) : null,
        types: query.types ?? null,
      });
      return eventStreamResponse(feed, {
        buffered: c.req.header(TRANSPORT_HEADER) === 'faas',
        heartbeatMs: deps.env.WEAVER_SSE_HEARTBEAT_MS,
        windowMs: deps.env.WEAVER_SSE_WINDOW_MS,
        signal: c.req.raw.signal,
      });
    },
  }),
];
