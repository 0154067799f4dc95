/**
 * Secret values the tests make up (the fake venues' API keys, tokens given to child processes): the
 * suite-wide log check (log-capture.ts) fails a test file in whose output one of them appears, beside
 * every value the process read as a Secret (config's knownSecretValues).
 */
const values = new Set<string>();

/** Registers a made-up secret; returns it, so a constant can be declared and registered at once. */
export function testSecret(value: string): string {
  values.add(value);
  return value;
}

export function testSecretValues(): ReadonlySet<string> {
  return values;
}
