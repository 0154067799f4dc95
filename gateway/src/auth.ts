/**
 * The API token check. One shared token (secret `weaver-api-token`, env WEAVER_API_TOKEN) guards every
 * route but health. Two ways to present it:
 * - `Authorization: Bearer <token>` on any request;
 * - the `weaver_session` cookie from POST /api/session, accepted on GET only, so a plain EventSource
 *   (which cannot set headers) can open the event stream while a forged cross-site form still cannot
 *   change anything.
 * Comparisons run on equal-length SHA-256 digests with timingSafeEqual, so timing reveals nothing about
 * how much of a guess was right; the cookie holds an expiry and an HMAC keyed by the token, never the token.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError } from '@weaver/shared/runtime';

export const SESSION_COOKIE = 'weaver_session';
export const SESSION_TTL_MS = 12 * 3600_000;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

let expectedDigest: { token: string; digest: Buffer } | undefined;

export function tokensEqual(presented: string, expected: string): boolean {
  if (expectedDigest?.token !== expected) expectedDigest = { token: expected, digest: digest(expected) };
  return timingSafeEqual(digest(presented), expectedDigest.digest);
}

function sessionMac(token: string, expiresAt: number): string {
  return createHmac('sha256', token).update(`weaver-session-v1:${expiresAt}`).digest('base64url');
}

export function makeSessionCookieValue(token: string, expiresAt: number): string {
  return `${expiresAt}.${sessionMac(token, expiresAt)}`;
}

export function sessionValid(value: string, token: string, now: number): boolean {
  const m = /^(\d{13,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const expiresAt = Number(m[1]);
  if (!(expiresAt > now)) return false;
  return timingSafeEqual(Buffer.from(m[2]), Buffer.from(sessionMac(token, expiresAt)));
}

export function bearerOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

export function cookieOf(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export const notConfigured = (): HttpError =>
  new HttpError(
    503,
    'auth_not_configured',
    'no API token is configured: create the secret weaver-api-token or set WEAVER_API_TOKEN',
  );

/**
 * Throws the 401 a request deserves, or returns when it carries the token. `expected` undefined means
 * no token is configured: the API then refuses everything rather than run open.
 */
export function authenticate(
  req: { method: string; authorization?: string; cookie?: string },
  expected: string | undefined,
  now: number,
): void {
  if (!expected) throw notConfigured();
  const bearer = bearerOf(req.authorization);
  if (bearer !== null) {
    if (tokensEqual(bearer, expected)) return;
    throw new HttpError(401, 'invalid_token', 'the API token is wrong', {
      authorization: 'is not the API token',
    });
  }
  const session = cookieOf(req.cookie, SESSION_COOKIE);
  if (session !== null && (req.method === 'GET' || req.method === 'HEAD')) {
    if (sessionValid(session, expected, now)) return;
    throw new HttpError(
      401,
      'invalid_session',
      'the session expired or the API token changed; log in again',
      {
        cookie: 'session is not valid',
      },
    );
  }
  if (req.authorization) {
    throw new HttpError(401, 'invalid_token', 'use "Authorization: Bearer <token>"', {
      authorization: 'must be "Bearer <token>"',
    });
  }
  throw new HttpError(401, 'unauthorized', 'this route needs the API token (Authorization: Bearer <token>)', {
    authorization: 'is required',
  });
}
