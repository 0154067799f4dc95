import { clip, escapeAngle, type Notification, type Severity } from './message.ts';

export const CHANNEL_NAMES = ['telegram', 'discord', 'slack', 'webhook'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** What a service answered, read the way its documentation describes. */
export type Verdict =
  | { ok: true }
  | { ok: false; retryable: boolean; retryAfterMs?: number; message: string };

export interface Channel {
  name: ChannelName;
  /** OpenFaaS secret holding the channel's URL (and with it the channel's credentials). */
  secret: string;
  /** Environment fallback for the local runner. */
  envName: string;
  /** What a valid URL looks like, for the error naming the secret. */
  example: string;
  /** Why `url` cannot be this channel's target, or null when it can. */
  problem(url: URL): string | null;
  request(url: URL, n: Notification): { url: string; body: unknown };
  verdict(status: number, headers: Headers, body: string): Verdict;
}

const SEVERITY_ICON: Record<Severity, string> = { info: 'ℹ️', warning: '⚠️', critical: '🛑' };
const SEVERITY_COLOR: Record<Severity, number> = { info: 0x2e86de, warning: 0xf39c12, critical: 0xe74c3c };

function jsonOf(body: string): Record<string, unknown> {
  try {
    const v = JSON.parse(body);
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}

/** Retry-After in seconds (the form every one of these services sends), as milliseconds. */
function retryAfter(headers: Headers, seconds?: unknown): number | undefined {
  const v = seconds ?? headers.get('retry-after');
  const n = Number(v);
  return v !== null && v !== undefined && Number.isFinite(n) && n >= 0 ? Math.ceil(n * 1000) : undefined;
}

/** 429, 408 and 5xx are worth another try; any other 4xx means the configuration is wrong. */
function byStatus(status: number, headers: Headers, message: string, seconds?: unknown): Verdict {
  if (status >= 200 && status < 300) return { ok: true };
  const retryable = status === 429 || status === 408 || status >= 500;
  return {
    ok: false,
    retryable,
    retryAfterMs: retryAfter(headers, seconds),
    message: `HTTP ${status}: ${clip(message, 300)}`,
  };
}

const https = (url: URL): string | null =>
  url.protocol === 'https:' || url.protocol === 'http:' ? null : 'must be an http(s) URL';

/** Telegram Bot API sendMessage: https://core.telegram.org/bots/api#sendmessage */
const telegram: Channel = {
  name: 'telegram',
  secret: 'notify-telegram',
  envName: 'WEAVER_NOTIFY_TELEGRAM',
  example: 'https://api.telegram.org/bot<token>/sendMessage?chat_id=<chat id>',
  problem(url) {
    if (https(url)) return https(url);
    if (!/^\/bot[^/]+\/sendMessage$/.test(url.pathname)) return 'must end in /bot<token>/sendMessage';
    if (!url.searchParams.get('chat_id')) return 'must carry ?chat_id=<chat id>';
    return null;
  },
  request(url, n) {
    const lines = [`${SEVERITY_ICON[n.severity]} <b>${escapeAngle(n.title)}</b>`];
    if (n.text) lines.push(escapeAngle(n.text));
    for (const f of n.fields) lines.push(`<b>${escapeAngle(f.name)}:</b> ${escapeAngle(f.value)}`);
    const target = new URL(url);
    const chatId = target.searchParams.get('chat_id') ?? '';
    target.search = '';
    return {
      url: target.toString(),
      // 4096 characters is sendMessage's limit on the text; entities count as written.
      body: {
        chat_id: chatId,
        text: clip(lines.join('\n'), 4096),
        parse_mode: 'HTML',
        disable_web_page_preview: true,
      },
    };
  },
  verdict(status, headers, body) {
    const j = jsonOf(body);
    if (status === 200 && j.ok === true) return { ok: true };
    const params = (j.parameters ?? {}) as { retry_after?: unknown };
    const verdict = byStatus(
      status === 200 ? 502 : status,
      headers,
      String(j.description ?? body),
      params.retry_after,
    );
    return verdict;
  },
};

/** Discord webhook execution: https://discord.com/developers/docs/resources/webhook#execute-webhook */
const discord: Channel = {
  name: 'discord',
  secret: 'notify-discord',
  envName: 'WEAVER_NOTIFY_DISCORD',
  example: 'https://discord.com/api/webhooks/<id>/<token>',
  problem(url) {
    if (https(url)) return https(url);
    if (!/\/api\/webhooks\/[^/]+\/[^/]+\/?$/.test(url.pathname))
      return 'must be a webhook URL …/api/webhooks/<id>/<token>';
    return null;
  },
  request(url, n) {
    const embed = {
      title: clip(`${SEVERITY_ICON[n.severity]} ${n.title}`, 256),
      description: clip(n.text, 4096),
      color: SEVERITY_COLOR[n.severity],
      fields: n.fields
        .slice(0, 25)
        .map((f) => ({ name: clip(f.name, 256), value: clip(f.value || '-', 1024), inline: true })),
      timestamp: n.occurredAt ?? new Date().toISOString(),
      footer: { text: n.correlationId ? clip(`weaver · ${n.correlationId}`, 2048) : 'weaver' },
    };
    // No pings: a trading bot must not @everyone because a symbol or an error message contains it.
    return {
      url: url.toString(),
      body: { username: 'Weaver', embeds: [embed], allowed_mentions: { parse: [] } },
    };
  },
  verdict(status, headers, body) {
    const j = jsonOf(body);
    return byStatus(status, headers, String(j.message ?? body), j.retry_after);
  },
};

/** Slack incoming webhooks (and Mattermost / Rocket.Chat, which read `text`): https://api.slack.com/messaging/webhooks */
const slack: Channel = {
  name: 'slack',
  secret: 'notify-slack',
  envName: 'WEAVER_NOTIFY_SLACK',
  example: 'https://hooks.slack.com/services/T000/B000/XXXX',
  problem: https,
  request(url, n) {
    const title = `${SEVERITY_ICON[n.severity]} ${n.title}`;
    const fieldText = n.fields.map((f) => `*${escapeAngle(f.name)}:* ${escapeAngle(f.value)}`);
    const blocks: unknown[] = [
      { type: 'header', text: { type: 'plain_text', text: clip(title, 150), emoji: true } },
    ];
    if (n.text)
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(escapeAngle(n.text), 3000) } });
    if (fieldText.length) {
      blocks.push({
        type: 'section',
        fields: fieldText.slice(0, 10).map((t) => ({ type: 'mrkdwn', text: clip(t, 2000) })),
      });
    }
    if (n.correlationId) {
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: clip(`weaver · ${n.correlationId}`, 300) }],
      });
    }
    // `text` is the notification fallback, and all that Slack-compatible servers without blocks show.
    const text = clip(
      [`*${escapeAngle(title)}*`, escapeAngle(n.text), ...fieldText].filter(Boolean).join('\n'),
      3000,
    );
    return { url: url.toString(), body: { text, blocks } };
  },
  verdict(status, headers, body) {
    return byStatus(status, headers, body);
  },
};

/** Any HTTP endpoint: the notification itself as JSON, documented in docs/deploy.md. */
const webhook: Channel = {
  name: 'webhook',
  secret: 'notify-webhook',
  envName: 'WEAVER_NOTIFY_WEBHOOK',
  example: 'https://example.org/hooks/weaver',
  problem: https,
  request(url, n) {
    return {
      url: url.toString(),
      body: {
        source: 'weaver',
        kind: n.kind,
        severity: n.severity,
        title: n.title,
        text: n.text,
        fields: Object.fromEntries(n.fields.map((f) => [f.name, f.value])),
        occurredAt: n.occurredAt ?? new Date().toISOString(),
        correlationId: n.correlationId ?? null,
      },
    };
  },
  verdict(status, headers, body) {
    return byStatus(status, headers, body);
  },
};

export const CHANNELS: Record<ChannelName, Channel> = { telegram, discord, slack, webhook };
