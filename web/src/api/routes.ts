/**
 * Every gateway path the dashboard uses, in one place. SWR keys are these paths (with their query), so
 * live events can make a whole resource stale by prefix.
 */
const enc = encodeURIComponent;

export const routes = {
  session: '/api/session',
  events: '/api/events',
  account: '/api/account',
  equity: '/api/account/equity',
  pnl: '/api/pnl',
  positions: '/api/positions',
  closePosition: '/api/positions/close',
  closeAll: '/api/positions/close-all',
  orders: '/api/orders',
  cancelOrder: (id: number) => `/api/orders/${id}/cancel`,
  trades: '/api/trades',
  signals: '/api/signals',
  bars: '/api/bars',
  barSeries: '/api/bars/series',
  strategies: '/api/strategies',
  strategyModules: '/api/strategies/modules',
  strategy: (name: string) => `/api/strategies/${enc(name)}`,
  runStrategy: (name: string) => `/api/strategies/${enc(name)}/run`,
  reloadStrategies: '/api/strategies/reload',
  parity: '/api/parity',
  killSwitch: '/api/kill-switch',
  riskLimits: '/api/risk-limits',
  system: '/api/system',
  runs: '/api/system/runs',
  audit: '/api/system/events',
  backtests: '/api/backtests',
  backtest: (id: number | string) => `/api/backtests/${enc(String(id))}`,
  backtestTrades: (id: number | string) => `/api/backtests/${enc(String(id))}/trades`,
  compareBacktests: '/api/backtests/compare',
  sweeps: '/api/backtests/sweeps',
} as const;
