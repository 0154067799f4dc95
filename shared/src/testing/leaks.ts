/** Finding secret values in captured output without printing them (log-capture.ts reports with it). */

/** As the logger's own scrub: shorter values (a notification channel's `off`) are words, not secrets. */
export const MIN_SECRET_LENGTH = 6;

/** A secret named without showing it: its first two characters and its length. */
const masked = (secret: string): string => `${secret.slice(0, 2)}…(${secret.length} chars)`;

/** Where each secret appears in `chunks`: the text around its first place, every secret in it masked. */
export function findLeaks(chunks: readonly string[], secrets: Iterable<string>): string[] {
  let text = chunks.join('');
  const found = [...new Set(secrets)]
    .filter((s) => s.length >= MIN_SECRET_LENGTH && text.includes(s))
    // Longest first, so a secret inside another is not left half-masked.
    .sort((a, b) => b.length - a.length);
  const placeholders = found.map((s) => `[SECRET ${masked(s)}]`);
  found.forEach((s, i) => {
    text = text.split(s).join(placeholders[i]);
  });
  const leaks: string[] = [];
  found.forEach((s, i) => {
    const at = text.indexOf(placeholders[i]);
    // Absent: it appeared only inside a longer secret, which is reported.
    if (at >= 0)
      leaks.push(
        `${masked(s)} in: …${text.slice(Math.max(0, at - 120), at + placeholders[i].length + 120)}…`,
      );
  });
  return leaks;
}
