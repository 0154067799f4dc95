import { DelegateBackoff, handleWhen, type IRetryBackoffContext, retry } from 'cockatiel';
import type { Sql } from 'postgres';
import { ConfigError, readSecret, type Secret } from '../config/index.ts';
import { type Logger, logger } from '../log/index.ts';
import { CHANNEL_NAMES, CHANNELS, type Channel, type ChannelName } from './channels.ts';
import type { Notification } from './message.ts';

/** A channel with its URL; the URL carries the credentials, so it stays a Secret until the request. */
export interface ConfiguredChannel {
  channel: Channel;
  secret: Secret;
}

const DISABLED = new Set(['', 'off', 'none', 'disabled']);

/** Reads each channel's secret (file under /var/openfaas/secrets, else env); a malformed one names its secret. */
export function channelConfig(name: ChannelName): ConfiguredChannel | undefined {
  const channel = CHANNELS[name];
  const secret = readSecret(channel.secret, channel.envName);
  // faasd refuses to deploy a function whose secret does not exist, so an unused channel's secret is
  // created with the value `off`.
  if (!secret || DISABLED.has(secret.reveal().trim().toLowerCase())) return undefined;
  let url: URL;
  try {
    url = new URL(secret.reveal().trim());
  } catch {
    throw new ConfigError({ [channel.secret]: `is not a URL; expected ${channel.example}` });
  }
  const problem = channel.problem(url);
  if (problem) throw new ConfigError({ [channel.secret]: `${problem} (expected ${channel.example})` });
  return { channel, secret };
}

/** Every channel with a secret set, and why the malformed ones were left out. */
export function configuredChannels(): { channels: ConfiguredChannel[]; invalid: Record<string, string> } {
  const channels: ConfiguredChannel[] = [];
  const invalid: Record<string, string> = {};
  for (const name of CHANNEL_NAMES) {
    try {
      const c = channelConfig(name);
      if (c) channels.push(c);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      Object.assign(invalid, err.fields);
    }
  }
  return { channels, invalid };
}

let noChannelNoted = false;

/**
 * Says, once per process and at info level, that notifications go nowhere: having no channel is a
 * choice (the demo, a trader who reads the dashboard), not a fault to repeat on every event.
 */
export function noteNoChannels(log: Logger): void {
  if (noChannelNoted) return;
  noChannelNoted = true;
  log.info('no notification channel configured: notifications are not sent');
}

class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface DeliveryOptions {
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** First backoff (default 500 ms, doubling); a service's Retry-After wins, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface DeliveryResult {
  channel: ChannelName;
  ok: boolean;
  attempts: number;
  error?: string;
}

/** Sends one notification to one channel, retrying what the service says is worth retrying. */
export async function deliver(
  c: ConfiguredChannel,
  n: Notification,
  opts: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const { retries = 3, timeoutMs = 10_000, baseDelayMs = 500, maxDelayMs = 30_000 } = opts;
  const { url, body } = c.channel.request(new URL(c.secret.reveal().trim()), n);
  let attempts = 0;
  const policy = retry(
    handleWhen((e) => e instanceof DeliveryError && e.retryable),
    {
      maxAttempts: retries,
      backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) => {
        const error = 'error' in ctx.result ? ctx.result.error : undefined;
        const asked = error instanceof DeliveryError ? error.retryAfterMs : undefined;
        return Math.min(maxDelayMs, asked ?? baseDelayMs * 2 ** (ctx.attempt - 1));
      }),
    },
  );
  try {
    await policy.execute(async () => {
      attempts++;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'weaver-notify' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        // The cause, never the URL: the URL holds the channel's token.
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why =
          e.name === 'TimeoutError'
            ? `timed out after ${timeoutMs} ms`
            : (e.cause?.code ?? e.cause?.message ?? e.name);
        throw new DeliveryError(why, true);
      }
      const verdict = c.channel.verdict(res.status, res.headers, await res.text());
      if (!verdict.ok) throw new DeliveryError(verdict.message, verdict.retryable, verdict.retryAfterMs);
    });
    return { channel: c.channel.name, ok: true, attempts };
  } catch (err) {
    return { channel: c.channel.name, ok: false, attempts, error: (err as Error).message };
  }
}

export interface NotifyOptions extends DeliveryOptions {
  /**
   * Same key, same notification: a channel that already received it is skipped (a redelivered event, a
   * second summary for a day). A failed delivery may be retried under the same key.
   */
  dedupeKey: string;
  channels?: ConfiguredChannel[];
  log?: Logger;
}

export interface NotifyResult extends DeliveryResult {
  skipped?: 'already_sent';
}

/** Sends to every configured channel at once; one channel's failure never stops another's delivery. */
export async function notifyAll(sql: Sql, n: Notification, opts: NotifyOptions): Promise<NotifyResult[]> {
  const log = opts.log ?? logger();
  const channels = opts.channels ?? configuredChannels().channels;
  return Promise.all(
    channels.map(async (c): Promise<NotifyResult> => {
      const name = c.channel.name;
      // Claim the (key, channel) pair; a row stuck in 'sending' for 15 minutes belonged to a dead process.
      const [claimed] = await sql<{ id: number }[]>`
        INSERT INTO notifications (dedupe_key, channel, kind, title, status, correlation_id)
        VALUES (${opts.dedupeKey}, ${name}, ${n.kind}, ${n.title}, 'sending', ${n.correlationId ?? null})
        ON CONFLICT (dedupe_key, channel) DO UPDATE SET status = 'sending', error = NULL, created_at = now()
        WHERE notifications.status = 'failed'
           OR (notifications.status = 'sending' AND notifications.created_at < now() - interval '15 minutes')
        RETURNING id`;
      if (!claimed) return { channel: name, ok: true, attempts: 0, skipped: 'already_sent' };
      const r = await deliver(c, n, opts);
      await sql`
        UPDATE notifications
        SET status = ${r.ok ? 'sent' : 'failed'}, attempts = attempts + ${r.attempts}, error = ${r.error ?? null},
            sent_at = ${r.ok ? new Date() : null}
        WHERE id = ${claimed.id}`;
      if (r.ok) log.info({ channel: name, kind: n.kind, attempts: r.attempts }, 'notification sent');
      else
        log.warn({ channel: name, kind: n.kind, attempts: r.attempts, err: r.error }, 'notification failed');
      return r;
    }),
  );
}
