import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  BacktestConfig,
  BacktestMetrics,
  BacktestPage,
  BacktestResult,
  BacktestSummary,
  BarSeriesList,
  StrategyModuleList,
  SweepPage,
  SweepSummary,
} from '@weaver/shared/schemas';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Route } from '../app/router.ts';
import { apiError, FakeApi } from '../test/fakeApi.ts';
import { paramsSchema } from '../test/fixtures.ts';
import { axeViolations, renderWithSwr } from '../test/render.tsx';
import BacktestDetailPage from './BacktestDetailPage.tsx';
import BacktestsPage from './BacktestsPage.tsx';

const T0 = '2025-03-03T14:30:00.000Z';
const route = (qs = ''): Route => ({ segments: ['backtests'], query: new URLSearchParams(qs) });

const summary = (id: number, over: Partial<BacktestSummary> = {}): BacktestSummary => ({
  id,
  name: null,
  strategy: 'sma-crossover',
  params: { fast: 10, slow: 30 },
  symbols: ['ACME'],
  timeframe: '1Min',
  status: 'completed',
  progress: 1,
  role: 'single',
  sweepId: null,
  totalReturn: 0.0123 * id,
  sharpe: 1.5 - id,
  maxDrawdown: 0.05,
  trades: 10 + id,
  endEquity: 101_230,
  error: null,
  createdAt: T0,
  startedAt: T0,
  finishedAt: T0,
  ...over,
});

function gateway() {
  const posted: unknown[] = [];
  const api = new FakeApi()
    .on('GET', '/api/strategies/modules', StrategyModuleList, () => ({
      items: [
        {
          name: 'sma-crossover',
          description: 'Moving averages cross.',
          source: 'builtin' as const,
          paramsSchema,
          defaults: { fast: 10, slow: 30 },
          error: null,
        },
      ],
    }))
    .on('GET', '/api/bars/series', BarSeriesList, () => ({
      items: [
        { symbol: 'ACME', timeframe: '1Min' as const, first: T0, last: T0 },
        { symbol: 'GLOBEX', timeframe: '1Min' as const, first: T0, last: T0 },
      ],
    }))
    .on('GET', '/api/backtests/sweeps', SweepPage, () => ({ items: [], nextCursor: null }))
    .on('GET', '/api/backtests', BacktestPage, () => ({
      items: [
        summary(3, { status: 'running', progress: 0.42, totalReturn: null, sharpe: null }),
        summary(2),
        summary(1),
      ],
      nextCursor: null,
    }))
    .on('POST', '/api/backtests', BacktestSummary, (req) => {
      posted.push(req.body);
      const b = req.body as { params: { fast: number; slow: number } };
      if (b.params.fast >= b.params.slow) {
        return apiError(400, 'invalid_input', 'invalid input', {
          'params.fast': 'must be smaller than slow',
          symbols: 'no bars for ZZZ',
        });
      }
      return summary(9, { status: 'queued', progress: 0 });
    })
    .on('POST', '/api/backtests/sweeps', SweepSummary, (req) => {
      posted.push(req.body);
      return {
        id: 4,
        name: null,
        status: 'queued' as const,
        total: 6,
        done: 0,
        failed: 0,
        objective: 'sharpe' as const,
        bestBacktestId: null,
        folds: [],
        error: null,
        createdAt: T0,
        startedAt: null,
        finishedAt: null,
      };
    })
    .install();
  return { api, posted };
}

beforeEach(() => {
  window.location.hash = '#/backtests';
});

describe('Backtests', () => {
  it('runs one backtest with the module’s parameters and opens it', async () => {
    const { posted } = gateway();
    const { container } = renderWithSwr(<BacktestsPage route={route()} />);
    const symbols = (await screen.findByLabelText('Symbols')) as HTMLInputElement;
    expect(symbols.value).toBe('ACME, GLOBEX');
    expect((screen.getByLabelText('fast') as HTMLInputElement).value).toBe('10');
    expect(await screen.findByRole('table', { name: 'Backtests' })).toBeTruthy();
    expect(screen.getByRole('progressbar', { name: 'running, 42%' })).toBeTruthy();
    expect(await axeViolations(container)).toEqual([]);

    fireEvent.change(screen.getByLabelText('fast'), { target: { value: '12' } });
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2025-01-02' } });
    fireEvent.change(screen.getByLabelText('Trailing stop (%)'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run backtest' }));
    await waitFor(() => expect(window.location.hash).toBe('#/backtests/9'));
    expect(posted[0]).toEqual({
      strategy: 'sma-crossover',
      params: { fast: 12, slow: 30 },
      symbols: ['ACME', 'GLOBEX'],
      timeframe: '1Min',
      from: '2025-01-02',
      cash: 100000,
      sizing: { type: 'percent_equity', percent: 10 },
      exits: { trailingStop: 0.03 },
    });
  });

  it('shows the server’s field errors next to their inputs', async () => {
    gateway();
    renderWithSwr(<BacktestsPage route={route()} />);
    fireEvent.change(await screen.findByLabelText('fast'), { target: { value: '40' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run backtest' }));
    expect(await screen.findByText('fast must be smaller than slow')).toBeTruthy();
    expect(screen.getByText('Symbols no bars for ZZZ')).toBeTruthy();
    expect(screen.getByLabelText('Symbols').getAttribute('aria-invalid')).toBe('true');
  });

  it('starts a sweep over lists and ranges of values', async () => {
    const { posted } = gateway();
    renderWithSwr(<BacktestsPage route={route()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Sweep' }));
    fireEvent.change(screen.getByLabelText('fast'), { target: { value: '3, 5' } });
    fireEvent.change(screen.getByLabelText('slow'), { target: { value: '20..' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start sweep' }));
    expect(
      await screen.findByText('slow must be numbers separated by commas, or a range such as 5..50:5'),
    ).toBeTruthy();
    expect(posted).toHaveLength(0);
    fireEvent.change(screen.getByLabelText('slow'), { target: { value: '20..40:10' } });
    fireEvent.change(screen.getByLabelText('Rank by'), { target: { value: 'calmar' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start sweep' }));
    expect(await screen.findByText('Sweep #4 started: 6 runs.')).toBeTruthy();
    expect(posted[0]).toMatchObject({
      strategies: [
        {
          strategy: 'sma-crossover',
          grid: { fast: [3, 5], slow: { min: 20, max: 40, step: 10, integer: true } },
        },
      ],
      objective: 'calmar',
      symbolMode: 'each',
      split: { type: 'none' },
    });
  });

  it('sorts the results and compares the ticked ones', async () => {
    gateway();
    renderWithSwr(<BacktestsPage route={route()} />);
    const table = await screen.findByRole('table', { name: 'Backtests' });
    fireEvent.click(within(table).getByRole('button', { name: /Sharpe/ }));
    const firstId = () => within(table).getAllByRole('row')[1].querySelector('a')?.textContent;
    // Descending by Sharpe: #1 (0.5) before #2 (-0.5); the running one has none and goes last.
    expect(firstId()).toBe('#1');
    fireEvent.click(within(table).getByRole('button', { name: /Sharpe/ }));
    expect(firstId()).toBe('#2');
    const compare = screen.getByRole('button', { name: 'Compare' }) as HTMLButtonElement;
    expect(compare.disabled).toBe(true);
    fireEvent.click(screen.getByLabelText('Compare backtest 1'));
    fireEvent.click(screen.getByLabelText('Compare backtest 2'));
    expect((screen.getByLabelText('Compare backtest 3') as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Compare (2)' }));
    expect(window.location.hash).toBe('#/backtests/compare?ids=1%2C2');
  });
});

describe('Backtest detail', () => {
  it('shows a running backtest’s progress, then its results when the gateway has them', async () => {
    let done = false;
    const metrics = {
      totalReturn: 0.05,
      sharpe: 1.25,
      maxDrawdown: 0.031,
      trades: 4,
      winRate: 0.5,
      endEquity: 105_000,
    };
    new FakeApi()
      .on('GET', '/api/backtests/:id', BacktestResult, () => ({
        ...summary(9, done ? {} : { status: 'running', progress: 0.3, totalReturn: null }),
        config: BacktestConfig.parse({
          strategy: 'sma-crossover',
          params: {},
          symbols: ['ACME'],
          timeframe: '1Min',
          cash: 100000,
          sizing: { type: 'fixed_qty', qty: '1' },
          fractional: false,
          commission: { type: 'none' },
          slippageBps: 0,
          fillAt: 'next_open',
          allowShort: false,
          exits: {},
          order: { type: 'market', limitOffsetBps: 0, stopOffsetBps: 0, timeInForce: 'gtc' },
          riskFreeRate: 0,
        }),
        metrics: done ? { ...fullMetrics(), ...metrics } : null,
        series: null,
        trades: { items: [], nextSeq: null },
      }))
      .install();
    const view = renderWithSwr(<BacktestDetailPage id="9" />);
    expect(await screen.findByText(/The backtest is running/)).toBeTruthy();
    expect(screen.getByRole('progressbar', { name: 'running, 30%' })).toBeTruthy();
    done = true;
    view.rerender(<BacktestDetailPage id="9" />);
    expect(await screen.findByText('+5%', {}, { timeout: 8000 })).toBeTruthy();
    const cards = view.container.querySelector('.metric-cards') as HTMLElement;
    expect(within(cards).getByText('1.25')).toBeTruthy();
    expect(within(cards).getByText('-3.1%')).toBeTruthy();
    expect(screen.getByText('The strategy made no trades in this range.')).toBeTruthy();
  }, 15_000);
});

/** A complete metrics object: every field the schema has (parse fails if one is missing). */
function fullMetrics() {
  const zero = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, 0]));
  const m = {
    ...zero([
      'startEquity',
      'endEquity',
      'netProfit',
      'totalReturn',
      'benchmarkReturn',
      'marketChange',
      'minEquity',
      'maxEquity',
      'maxDrawdown',
      'maxDrawdownAmount',
      'maxDrawdownDurationMs',
      'longestDrawdownMs',
      'trades',
      'openTrades',
      'wins',
      'losses',
      'grossProfit',
      'grossLoss',
      'maxConsecutiveWins',
      'maxConsecutiveLosses',
      'winningDays',
      'losingDays',
      'flatDays',
      'exposure',
      'tradedVolume',
      'totalFees',
      'bars',
      'periodsPerYear',
      'riskFreeRate',
    ]),
    ...Object.fromEntries(
      [
        'cagr',
        'annualVolatility',
        'annualVariance',
        'sharpe',
        'probabilisticSharpe',
        'sortino',
        'calmar',
        'sqn',
        'informationRatio',
        'trackingError',
        'treynor',
        'alpha',
        'beta',
        'timeToRecoveryMs',
        'winRate',
        'lossRate',
        'profitFactor',
        'expectancy',
        'expectancyRatio',
        'averageWin',
        'averageLoss',
        'winLossRatio',
        'bestTrade',
        'worstTrade',
        'bestTradeReturn',
        'worstTradeReturn',
        'tradesPerDay',
        'averageHoldingMs',
        'averageWinnerHoldingMs',
        'averageLoserHoldingMs',
        'averageStake',
        'bestDay',
        'worstDay',
        'turnover',
      ].map((k) => [k, null]),
    ),
    maxDrawdownStart: null,
    maxDrawdownEnd: null,
    maxDrawdownRecovery: null,
    orders: { submitted: 0, filled: 0, rejected: 0, expired: 0, canceled: 0 },
  };
  return BacktestMetrics.parse(m);
}
