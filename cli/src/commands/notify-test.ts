import { ConfigError } from '@weaver/shared/config';
import {
  CHANNEL_NAMES,
  CHANNELS,
  type ChannelName,
  channelConfig,
  deliver,
  Notification,
} from '@weaver/shared/notify';
import type { Command } from '../main.ts';

const usage = `usage: weaver notify-test <${CHANNEL_NAMES.join('|')}>

Sends a test message to one notification channel, configured as the functions read it: the OpenFaaS
secret file /var/openfaas/secrets/<secret> (WEAVER_SECRETS_DIR to look elsewhere) or its environment
variable. Exits 0 when the service accepted it.

${CHANNEL_NAMES.map((n) => `  ${n.padEnd(9)} secret ${CHANNELS[n].secret.padEnd(16)} env ${CHANNELS[n].envName.padEnd(24)} ${CHANNELS[n].example}`).join('\n')}`;

const notifyTestCommand: Command = {
  name: 'notify-test',
  summary: 'send a test message to a notification channel (telegram, discord, slack, webhook)',
  usage,
  async run(argv) {
    const [name, ...rest] = argv;
    if (!name || rest.length || !(CHANNEL_NAMES as readonly string[]).includes(name)) {
      process.stderr.write(`${name ? `weaver notify-test: unknown channel "${name}"\n` : ''}${usage}\n`);
      return 2;
    }
    const channel = CHANNELS[name as ChannelName];
    let configured: ReturnType<typeof channelConfig>;
    try {
      configured = channelConfig(channel.name);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      process.stderr.write(`weaver notify-test: ${e.message}\n`);
      return 1;
    }
    if (!configured) {
      process.stderr.write(
        `weaver notify-test: ${channel.name} is not configured: create the secret ${channel.secret} or set ${channel.envName} (${channel.example})\n`,
      );
      return 1;
    }
    const message = Notification.parse({
      kind: 'test',
      title: 'Weaver test message',
      text: `Notifications to ${channel.name} work. Fills, rejections, errors, risk halts and daily summaries will arrive here.`,
      fields: [{ name: 'Sent by', value: 'weaver notify-test' }],
      occurredAt: new Date().toISOString(),
    });
    const r = await deliver(configured, message, { retries: 2 });
    if (r.ok) {
      process.stdout.write(
        `sent a test message to ${channel.name} (${r.attempts} attempt${r.attempts > 1 ? 's' : ''})\n`,
      );
      return 0;
    }
    process.stderr.write(
      `weaver notify-test: ${channel.name} refused it after ${r.attempts} attempt(s): ${r.error}\n`,
    );
    return 1;
  },
};

export default notifyTestCommand;
