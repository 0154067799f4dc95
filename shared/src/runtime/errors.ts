import type { z } from 'zod';

/** An error with an HTTP answer: the one error shape `{ error: { code, message, fields } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, fields: this.fields } };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; fields: Record<string, string> };
}

/** zod issues → `{ "a.b": "message" }`, the `fields` of a 400. */
export function fieldsOf(error: z.ZodError, prefix = ''): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const at = [prefix, ...issue.path.map(String)];
    // A strict object's unknown keys are reported on the object: name each key instead.
    const paths =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => [...at, k].filter(Boolean).join('.'))
        : [at.filter(Boolean).join('.') || '(body)'];
    for (const path of paths)
      fields[path] ??= issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
  }
  return fields;
}

export function invalidInput(error: z.ZodError, prefix = ''): HttpError {
  const fields = fieldsOf(error, prefix);
  const summary = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
  return new HttpError(400, 'invalid_input', `invalid input: ${summary}`, fields);
}

export const notFound = (what: string, field?: string): HttpError =>
  new HttpError(404, 'not_found', `${what} not found`, field ? { [field]: 'not found' } : {});

export const conflict = (message: string, fields: Record<string, string> = {}): HttpError =>
  new HttpError(409, 'conflict', message, fields);
