import type { EventType } from '../schemas/index.ts';

/**
 * The one catalogue of subjects: `<prefix>.<event type>`, e.g. `weaver.bars.fetched`. The prefix is
 * WEAVER_SUBJECT_PREFIX (default `weaver`); tests use their own so runs never cross.
 */
export function subjectOf(prefix: string, type: EventType): string {
  return `${prefix}.${type}`;
}

export function typeOfSubject(prefix: string, subject: string): string | null {
  return subject.startsWith(`${prefix}.`) ? subject.slice(prefix.length + 1) : null;
}

/** Everything Weaver publishes: what the JetStream stream captures and the gateway bridges. */
export const allSubjects = (prefix: string): string => `${prefix}.>`;
