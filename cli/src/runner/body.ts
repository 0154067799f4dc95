/**
 * The request body as the node22 template's body-parser (v2) hands it to a handler:
 * - no content-type → treated as text/plain (the template adds that header);
 * - text/* → string (limit 100kb: the template sets none);
 * - application/json → parsed, objects and arrays only, empty → {}, limit MAX_JSON_SIZE (100kb);
 * - application/x-www-form-urlencoded → object (qs-style nesting), limit 100kb;
 * - anything else → undefined (no parser matches), and so does a request without a body;
 * - RAW_BODY=true → a Buffer for every type, limit MAX_RAW_SIZE.
 * Errors carry the status body-parser gives them (400 bad JSON, 413 too large, 415 bad charset or encoding).
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** body-parser's default limit, and the template's when MAX_JSON_SIZE / MAX_RAW_SIZE are unset. */
export const DEFAULT_LIMIT = 100 * 1024;
const PARAMETER_LIMIT = 1000;

export class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name =
      status === 413
        ? 'PayloadTooLargeError'
        : status === 415
          ? 'UnsupportedMediaTypeError'
          : 'BadRequestError';
  }
}

export interface BodyOptions {
  maxJsonBytes: number;
  maxRawBytes: number;
  rawBody: boolean;
}

type Kind = 'text' | 'json' | 'urlencoded' | 'raw' | null;

function mediaType(contentType: string): { type: string; charset: string | null } {
  const [type, ...params] = contentType.split(';');
  let charset: string | null = null;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*"?([^";]+)"?\s*$/i.exec(p);
    if (m) charset = m[1].toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

/** Which parser of the template takes this content type (in the template's order: text, json, urlencoded). */
export function parserFor(contentType: string | undefined, rawBody: boolean): Kind {
  if (rawBody) return 'raw';
  const { type } = mediaType(contentType || 'text/plain');
  if (type.startsWith('text/')) return 'text';
  if (type === 'application/json') return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'urlencoded';
  return null;
}

/** The byte limit for a request of this type; null when no parser reads it (the body is ignored). */
export function limitFor(contentType: string | undefined, o: BodyOptions): number | null {
  const kind = parserFor(contentType, o.rawBody);
  if (kind === 'raw') return o.maxRawBytes;
  if (kind === 'json') return o.maxJsonBytes;
  if (kind === null) return null;
  return DEFAULT_LIMIT;
}

export function tooLarge(): BodyError {
  return new BodyError(413, 'entity.too.large', 'request entity too large');
}

function decode(raw: Buffer, encoding: string | undefined, limit: number): Buffer {
  const enc = (encoding ?? 'identity').toLowerCase();
  try {
    if (enc === 'identity') return raw;
    if (enc === 'gzip') return gunzipSync(raw, { maxOutputLength: limit + 1 });
    if (enc === 'deflate') return inflateSync(raw, { maxOutputLength: limit + 1 });
    if (enc === 'br') return brotliDecompressSync(raw, { maxOutputLength: limit + 1 });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new BodyError(400, 'encoding.invalid', `invalid ${enc} body`);
  }
  throw new BodyError(415, 'encoding.unsupported', `unsupported content encoding "${enc}"`);
}

function textOf(buf: Buffer, charset: string | null): string {
  const cs = charset ?? 'utf-8';
  const nodeEncoding: Record<string, BufferEncoding> = {
    'utf-8': 'utf8',
    utf8: 'utf8',
    'us-ascii': 'latin1',
    ascii: 'latin1',
    'iso-8859-1': 'latin1',
    latin1: 'latin1',
    'utf-16le': 'utf16le',
  };
  const e = nodeEncoding[cs];
  if (!e) throw new BodyError(415, 'charset.unsupported', `unsupported charset "${cs.toUpperCase()}"`);
  return buf.toString(e);
}

/** qs-style (`extended: true`) parsing: `a[b]=1&a[c][]=2&x=1&x=2`. */
export function parseForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  const params = new URLSearchParams(text);
  let count = 0;
  for (const [key, value] of params) {
    if (++count > PARAMETER_LIMIT) throw new BodyError(413, 'parameters.too.many', 'too many parameters');
    const path = key.match(/^[^[\]]+|\[[^[\]]*\]/g)?.map((p) => (p.startsWith('[') ? p.slice(1, -1) : p)) ?? [
      key,
    ];
    let node: Record<string, unknown> = out;
    for (let i = 0; i < path.length; i++) {
      const k = path[i];
      const last = i === path.length - 1;
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') break;
      if (last || (k === '' && Array.isArray(node))) {
        if (k === '') {
          if (Array.isArray(node)) node.push(value);
          break;
        }
        const prev = node[k];
        if (prev === undefined) node[k] = value;
        else if (Array.isArray(prev)) prev.push(value);
        else node[k] = [prev, value];
        break;
      }
      const nextIsPush = path[i + 1] === '';
      if (node[k] === undefined || typeof node[k] !== 'object')
        node[k] = nextIsPush ? [] : Object.create(null);
      node = node[k] as Record<string, unknown>;
    }
  }
  return { ...out };
}

/**
 * Parses a body already read (raw bytes, at most the limit of its type). `raw` null means the request
 * had no body at all (no content-length, no transfer-encoding): body-parser leaves req.body undefined.
 */
export function parseBody(
  raw: Buffer | null,
  headers: { 'content-type'?: string; 'content-encoding'?: string },
  o: BodyOptions,
): unknown {
  const contentType = headers['content-type'] || 'text/plain';
  const kind = parserFor(contentType, o.rawBody);
  if (raw === null || kind === null) return undefined;
  const limit = limitFor(contentType, o) ?? DEFAULT_LIMIT;
  const buf = decode(raw, headers['content-encoding'], limit);
  if (buf.length > limit) throw tooLarge();
  const { charset } = mediaType(contentType);
  switch (kind) {
    case 'raw':
      return buf;
    case 'text':
      return textOf(buf, charset);
    case 'urlencoded': {
      if (charset && charset !== 'utf-8' && charset !== 'iso-8859-1') {
        throw new BodyError(415, 'charset.unsupported', `unsupported charset "${charset.toUpperCase()}"`);
      }
      return parseForm(textOf(buf, charset));
    }
    case 'json': {
      if (charset && !charset.startsWith('utf-')) {
        throw new BodyError(415, 'charset.unsupported', `unsupported charset "${charset.toUpperCase()}"`);
      }
      const text = textOf(buf, charset);
      if (text.length === 0) return {};
      // strict mode: only objects and arrays, as body-parser's default
      const first = /^[ \t\n\r]*(.)/.exec(text)?.[1];
      if (first !== '{' && first !== '[') {
        throw new BodyError(
          400,
          'entity.parse.failed',
          `Unexpected token ${first ?? 'end of input'} in JSON (strict mode)`,
        );
      }
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new BodyError(400, 'entity.parse.failed', (e as Error).message);
      }
    }
  }
}
