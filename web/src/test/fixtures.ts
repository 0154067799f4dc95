/** Sample answers for component tests, typed by the API schemas (and validated by FakeApi when served). */
import type {
  AccountSummary,
  HaltStatus,
  Order,
  PnlCalendar,
  PositionView,
  StrategyDetail,
  StrategySummary,
  SystemStatus,
  Trade,
} from '@weaver/shared/schemas';

const T0 = '2025-03-03T14:30:00.000Z';

export const account: AccountSummary = {
  exchange: 'sim',
  accountId: 'sim-1',
  currency: 'USD',
  cash: '81234.5',
  equity: '102345.67',
  buyingPower: '162469',
  dayPnl: '-123.45',
  at: T0,
  source: 'exchange',
  halted: false,
};

export const position = (over: Partial<PositionView> = {}): PositionView => ({
  strategy: 'sma-fast',
  symbol: 'AAPL',
  qty: '10',
  avgPrice: '180.5',
  realizedPnl: '0',
  openedAt: T0,
  updatedAt: T0,
  lastPrice: 190,
  marketValue: '1900',
  unrealizedPnl: '95',
  restingExit: null,
  ...over,
});

export const order = (id: number, over: Partial<Order> = {}): Order => ({
  id,
  clientOrderId: `sma-fast-${id}`,
  exchange: 'sim',
  exchangeOrderId: `x${id}`,
  strategy: 'sma-fast',
  signalId: null,
  symbol: 'AAPL',
  side: 'buy',
  type: 'market',
  timeInForce: 'day',
  qty: '5',
  notional: null,
  limitPrice: null,
  stopPrice: null,
  trailPercent: null,
  orderClass: 'simple',
  protective: false,
  stopRule: null,
  status: 'filled',
  filledQty: '5',
  filledAvgPrice: '181.25',
  errorCode: null,
  errorMessage: null,
  createdAt: new Date(Date.parse(T0) - id * 60_000).toISOString(),
  submittedAt: T0,
  updatedAt: T0,
  ...over,
});

export const trade = (id: number, over: Partial<Trade> = {}): Trade => ({
  id,
  fillId: id,
  orderId: id,
  strategy: 'sma-fast',
  symbol: 'AAPL',
  side: 'sell',
  qty: '5',
  price: '190.1',
  fee: '0',
  realizedPnl: '43',
  positionAfter: '0',
  executedAt: new Date(Date.parse(T0) - id * 60_000).toISOString(),
  ...over,
});

export const paramsSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    fast: { type: 'integer', minimum: 1, maximum: 500, default: 10, description: 'Fast SMA length in bars' },
    slow: { type: 'integer', minimum: 2, maximum: 2000, default: 30, description: 'Slow SMA length in bars' },
  },
};

export const strategy = (over: Partial<StrategySummary> = {}): StrategySummary => ({
  id: 1,
  name: 'sma-fast',
  module: 'sma-crossover',
  description: '',
  params: { fast: 5, slow: 20 },
  enabled: true,
  symbols: ['AAPL', 'MSFT'],
  timeframe: '1Min',
  exchange: null,
  sizing: { type: 'fixed_qty', qty: '5' },
  exits: {},
  allowShort: false,
  createdAt: T0,
  updatedAt: T0,
  status: 'running',
  statusReason: null,
  lastSignal: null,
  realizedPnl: '120.5',
  unrealizedPnl: '95',
  openPositions: 1,
  ...over,
});

export const strategyDetail = (over: Partial<StrategyDetail> = {}): StrategyDetail => ({
  ...strategy(),
  moduleInfo: {
    name: 'sma-crossover',
    description: 'Buy when the fast SMA crosses above the slow one.',
    source: 'builtin',
    paramsSchema,
    defaults: { fast: 10, slow: 30 },
    error: null,
  },
  positions: [position()],
  recentSignals: [],
  ...over,
});

export const noHalt: HaltStatus = { halted: false, halts: [] };
export const globalHalt: HaltStatus = {
  halted: true,
  halts: [{ id: 7, scope: 'global', reason: 'kill switch', createdAt: T0, until: null, clearedAt: null }],
};

export const pnlDays: PnlCalendar = {
  period: 'day',
  buckets: [
    { start: '2025-03-03', realizedPnl: '250.25', fees: '1', trades: 4 },
    { start: '2025-03-04', realizedPnl: '-75.5', fees: '0.5', trades: 2 },
  ],
};

export const systemStatus = (halt: HaltStatus = noHalt): SystemStatus => ({
  time: T0,
  functions: [
    {
      name: 'fetch-bars',
      trigger: 'cron',
      schedule: '* * * * *',
      topics: [],
      health: 'ok',
      lastRun: {
        id: 1,
        functionName: 'fetch-bars',
        correlationId: 'c1',
        trigger: 'cron',
        startedAt: T0,
        finishedAt: T0,
        outcome: 'ok',
        statusCode: 200,
        error: null,
      },
      runs24h: 1440,
      errors24h: 0,
      lastError: null,
    },
    {
      name: 'place-order',
      trigger: 'topic',
      schedule: null,
      topics: ['weaver.signals.created'],
      health: 'failing',
      lastRun: null,
      runs24h: 3,
      errors24h: 2,
      lastError: { at: T0, error: 'exchange answered 503' },
    },
  ],
  database: { ok: true, latencyMs: 0.8, version: 'PostgreSQL 16', error: null },
  bus: {
    mode: 'nats',
    ok: true,
    rttMs: 0.4,
    stream: { name: 'WEAVER', messages: 42, lastSeq: 42, consumers: 3 },
    error: null,
  },
  halt,
});
