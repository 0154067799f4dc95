import { type AlpacaExchange, createAlpacaExchange } from '../../src/exchanges/alpaca/index.ts';
import type { OrderIntent } from '../../src/schemas/index.ts';
import { OrderIntent as OrderIntentSchema } from '../../src/schemas/index.ts';
import type { FakeAlpaca } from '../../src/testing/fake-alpaca/index.ts';

/** The real adapter (real SDK) pointed at a fake over HTTP, with test-speed retries and no rate cap. */
export async function alpacaFor(
  fake: FakeAlpaca,
  options: Record<string, unknown> = {},
): Promise<AlpacaExchange> {
  const a = await createAlpacaExchange({
    keyId: fake.keyId,
    secretKey: fake.secretKey,
    tradingUrl: fake.url,
    dataUrl: fake.url,
    paper: true,
    timeoutMs: 2_000,
    rateLimit: { maxRequests: 1_000_000, intervalMs: 1000 },
    retry: { maxRetries: 6, initialDelayMs: 2, maxDelayMs: 20 },
    ...options,
  });
  return a as AlpacaExchange;
}

let n = 0;
/** An order intent as place-order would build it, validated by the schema. */
export function intent(p: Partial<Record<keyof OrderIntent, unknown>> & { symbol: string }): OrderIntent {
  return OrderIntentSchema.parse({
    clientOrderId: `t-${process.pid}-${Date.now().toString(36)}-${++n}`,
    strategy: 'test',
    side: 'buy',
    type: 'market',
    timeInForce: 'day',
    ...(p.notional === undefined ? { qty: '1' } : {}),
    ...p,
  });
}
