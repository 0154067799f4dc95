import { HttpError } from '@weaver/shared/runtime';
import { Ok, Session, SessionInput } from '@weaver/shared/schemas';
import type { Context } from 'hono';
import {
  makeSessionCookieValue,
  notConfigured,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  tokensEqual,
} from '../auth.ts';
import { defineRoute } from '../route.ts';

const secure = (c: Context): string =>
  c.req.header('x-forwarded-proto') === 'https' || new URL(c.req.url).protocol === 'https:' ? '; Secure' : '';

export const sessionRoutes = [
  defineRoute({
    method: 'post',
    path: '/session',
    summary:
      'Trade the API token (in the body) for an HttpOnly session cookie, accepted on GET routes only: lets a plain EventSource open /api/events',
    tag: 'auth',
    // The token travels in the body here; the route checks it itself.
    auth: false,
    body: SessionInput,
    response: Session,
    handler: async ({ body }, { deps, c }) => {
      const expected = deps.apiToken();
      if (!expected) throw notConfigured();
      if (!tokensEqual(body.token, expected)) {
        throw new HttpError(401, 'invalid_token', 'the API token is wrong', {
          token: 'is not the API token',
        });
      }
      const expiresAt = Date.now() + SESSION_TTL_MS;
      c.header(
        'set-cookie',
        `${SESSION_COOKIE}=${makeSessionCookieValue(expected, expiresAt)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure(c)}`,
      );
      return { ok: true as const, expiresAt: new Date(expiresAt).toISOString() };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/session',
    summary: 'Forget the session cookie',
    tag: 'auth',
    auth: false,
    response: Ok,
    handler: async (_, { c }) => {
      c.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure(c)}`);
      return { ok: true as const };
    },
  }),
];
