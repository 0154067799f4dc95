/**
 * The subset of JSON Schema that zod's toJSONSchema produces for strategy parameters (the gateway serves each
 * strategy module's params schema this way). The form is rendered from it and checks what it can before
 * sending; rules only the server knows (cross-field refinements such as fast < slow) come back as a 400
 * naming the field and are shown inline the same way.
 */
export interface ParamProperty {
  type?: 'number' | 'integer' | 'string' | 'boolean' | 'array' | 'object' | Array<string>;
  enum?: Array<string | number>;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

export interface ParamSchema {
  type?: 'object';
  properties?: Record<string, ParamProperty>;
  required?: string[];
}

/** `json`: arrays and objects (e.g. a combination's members), edited as JSON text. */
export type ParamKind = 'integer' | 'number' | 'boolean' | 'enum' | 'string' | 'json';

export function kindOf(p: ParamProperty): ParamKind {
  if (p.enum) return 'enum';
  const t = Array.isArray(p.type) ? p.type.find((x) => x !== 'null') : p.type;
  if (t === 'integer' || t === 'number' || t === 'boolean') return t;
  if (t === 'array' || t === 'object') return 'json';
  return 'string';
}

/** Form state: the text of each input (booleans as 'true'/'false'), so a half-typed number is kept as typed. */
export type ParamDraft = Record<string, string>;

export function draftFrom(schema: ParamSchema, values: Record<string, unknown>): ParamDraft {
  const draft: ParamDraft = {};
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const v = values[name] ?? prop.default;
    if (v === undefined || v === null) draft[name] = '';
    else draft[name] = kindOf(prop) === 'json' ? JSON.stringify(v, null, 2) : String(v);
  }
  return draft;
}

/** Converts the draft to typed values and lists what is wrong, by field name. */
export function readDraft(
  schema: ParamSchema,
  draft: ParamDraft,
): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const text = (draft[name] ?? '').trim();
    const kind = kindOf(prop);
    if (text === '') {
      if (required.has(name) && prop.default === undefined) errors[name] = 'is required';
      continue;
    }
    if (kind === 'boolean') {
      values[name] = text === 'true';
      continue;
    }
    if (kind === 'integer' || kind === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n)) {
        errors[name] = 'must be a number';
        continue;
      }
      const err = numberError(prop, n, kind === 'integer');
      if (err) errors[name] = err;
      values[name] = n;
      continue;
    }
    if (kind === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        errors[name] = 'must be valid JSON';
        continue;
      }
      const wantArray = (Array.isArray(prop.type) ? prop.type : [prop.type]).includes('array');
      if (wantArray !== Array.isArray(parsed) || typeof parsed !== 'object' || parsed === null) {
        errors[name] = wantArray ? 'must be a JSON array' : 'must be a JSON object';
      } else if (Array.isArray(parsed) && prop.minItems !== undefined && parsed.length < prop.minItems) {
        errors[name] = `must have at least ${prop.minItems} item${prop.minItems === 1 ? '' : 's'}`;
      } else if (Array.isArray(parsed) && prop.maxItems !== undefined && parsed.length > prop.maxItems) {
        errors[name] = `must have at most ${prop.maxItems} items`;
      }
      values[name] = parsed;
      continue;
    }
    if (kind === 'enum') {
      const option = prop.enum?.find((o) => String(o) === text);
      if (option === undefined) errors[name] = `must be one of ${prop.enum?.join(', ')}`;
      else values[name] = option;
      continue;
    }
    if (prop.minLength !== undefined && text.length < prop.minLength) {
      errors[name] = `must be at least ${prop.minLength} characters`;
    } else if (prop.maxLength !== undefined && text.length > prop.maxLength) {
      errors[name] = `must be at most ${prop.maxLength} characters`;
    }
    values[name] = text;
  }
  return { values, errors };
}

// zod writes "no bound" on integers as ±Number.MAX_SAFE_INTEGER; those are not worth showing.
const meaningful = (v: number | undefined) => v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER;

function numberError(p: ParamProperty, n: number, integer: boolean): string | null {
  if (integer && !Number.isInteger(n)) return 'must be a whole number';
  if (meaningful(p.minimum) && n < (p.minimum as number)) return `must be at least ${p.minimum}`;
  if (meaningful(p.maximum) && n > (p.maximum as number)) return `must be at most ${p.maximum}`;
  if (meaningful(p.exclusiveMinimum) && n <= (p.exclusiveMinimum as number)) {
    return `must be greater than ${p.exclusiveMinimum}`;
  }
  if (meaningful(p.exclusiveMaximum) && n >= (p.exclusiveMaximum as number)) {
    return `must be less than ${p.exclusiveMaximum}`;
  }
  return null;
}

/** Bounds for the input element, so the browser's own spinner and hints agree with the schema. */
export function inputBounds(p: ParamProperty): { min?: number; max?: number; step?: number | 'any' } {
  const kind = kindOf(p);
  return {
    min: meaningful(p.minimum) ? p.minimum : undefined,
    max: meaningful(p.maximum) ? p.maximum : undefined,
    step: kind === 'integer' ? 1 : 'any',
  };
}

export function rangeHint(p: ParamProperty): string {
  const lo = meaningful(p.minimum)
    ? `≥ ${p.minimum}`
    : meaningful(p.exclusiveMinimum)
      ? `> ${p.exclusiveMinimum}`
      : '';
  const hi = meaningful(p.maximum)
    ? `≤ ${p.maximum}`
    : meaningful(p.exclusiveMaximum)
      ? `< ${p.exclusiveMaximum}`
      : '';
  return [lo, hi].filter(Boolean).join(', ');
}
