/**
 * What the runner keeps in the project's .weaver/ folder between starts: the API token it generated
 * and the demo's simulated time, so a restart continues where the last run stopped.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AcceleratedClockSpec, formatClockSpec } from '@weaver/shared/clock';
import { z } from 'zod';

function writeAtomic(file: string, text: string, mode = 0o644): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/**
 * The API token of a local install: the one in .weaver/api-token, or a new random one written there
 * (readable by the owner only). `created` tells the caller to show it once.
 */
export function localApiToken(stateDir: string): { token: string; created: boolean; file: string } {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'api-token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, created: false, file };
  }
  const token = randomBytes(24).toString('base64url');
  writeAtomic(file, `${token}\n`, 0o600);
  chmodSync(file, 0o600);
  return { token, created: true, file };
}

const DemoClockState = z.object({ simulatedNow: z.number().int().positive(), speed: z.number().positive() });

export const DEFAULT_DEMO_SPEED = 30;
/** How far in the past a fresh demo starts, so the simulated market has days to replay before "now". */
export const DEMO_START_AGO_MS = 3 * 86_400_000;

/**
 * The demo clock for this start: a fresh one starts DEMO_START_AGO_MS in the past; a saved one resumes
 * at the simulated time the previous run reached (no gap in the bars), at the requested speed.
 */
export function demoClock(
  stateDir: string,
  speed: number,
  now = Date.now(),
): AcceleratedClockSpec & { resumed: boolean } {
  const file = join(stateDir, 'demo-clock.json');
  let saved: z.infer<typeof DemoClockState> | undefined;
  try {
    saved = DemoClockState.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    saved = undefined;
  }
  const epoch = saved ? Math.min(saved.simulatedNow, now) : now - DEMO_START_AGO_MS;
  return { epoch, realStart: now, speed, resumed: saved !== undefined };
}

/** Records how far the demo clock got (called periodically and at shutdown). */
export function saveDemoClock(stateDir: string, simulatedNow: number, speed: number): void {
  mkdirSync(stateDir, { recursive: true });
  writeAtomic(
    join(stateDir, 'demo-clock.json'),
    `${JSON.stringify({ simulatedNow: Math.round(simulatedNow), speed })}\n`,
  );
}

export { formatClockSpec };
