import { clearToken, readToken } from './token.ts';

/** An error answer of the gateway (`{ error: { code, message, fields } }`), or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field path (dotted) → what is wrong with it, for inline form errors. */
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function errorFromBody(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: unknown; message?: unknown; fields?: unknown } } | null)?.error;
  const fields: Record<string, string> = {};
  if (e?.fields && typeof e.fields === 'object') {
    for (const [k, v] of Object.entries(e.fields as Record<string, unknown>)) {
      fields[k] = Array.isArray(v) ? v.join('; ') : String(v);
    }
  }
  return new ApiError(
    status,
    typeof e?.code === 'string' ? e.code : `http_${status}`,
    typeof e?.message === 'string' ? e.message : `request failed with HTTP ${status}`,
    fields,
  );
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Send without a token (the login check uses its own). */
  token?: string;
}

export function authHeaders(token = readToken()): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Calls the gateway; resolves with the parsed JSON body or rejects with ApiError. A 401 logs out. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(options.token) };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method: options.method ?? 'GET', headers, body, signal: options.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server cannot be reached. Is Weaver running?');
  }
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!res.ok) {
    // A rejected token ends the session everywhere; the login screen says why.
    if (res.status === 401 && options.token === undefined) clearToken();
    throw errorFromBody(res.status, parsed);
  }
  return parsed as T;
}

/** SWR's fetcher: keys are gateway paths such as `/api/orders?status=filled`. */
export const fetcher = <T>(path: string): Promise<T> => api<T>(path);

/** Builds `/api/...?a=1&b=2`, dropping empty values so equal filters give equal cache keys. */
export function apiPath(
  path: string,
  query: Record<string, string | number | boolean | null | undefined> = {},
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
