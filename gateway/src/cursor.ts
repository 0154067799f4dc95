/**
 * Cursors of lists keyed by id alone (the audit log). Lists keyed by (time, id) use the shared keyset
 * cursor (@weaver/shared/db). Both are opaque base64url, validated on the way back so a tampered cursor
 * is a 400 naming `cursor`, never a SQL error.
 */
import { InvalidCursorError } from '@weaver/shared/db';

export const encodeIdCursor = (id: number): string => Buffer.from(`id.${id}`, 'utf8').toString('base64url');

export function decodeIdCursor(cursor: string): number {
  const m = /^id\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const id = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new InvalidCursorError();
  return id;
}
