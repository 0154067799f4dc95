import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  AccountSummary,
  BarSeriesList,
  Ok,
  ParityReport,
  ReloadResult,
  RunStrategyResult,
  type StrategyCreate,
  StrategyDetail,
  StrategyList,
  StrategyModuleList,
  StrategySummary,
} from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import { apiError, FakeApi } from '../test/fakeApi.ts';
import { account, paramsSchema, strategy, strategyDetail } from '../test/fixtures.ts';
import { axeViolations, renderWithSwr } from '../test/render.tsx';
import StrategiesPage from './StrategiesPage.tsx';
import StrategyDetailPage from './StrategyDetailPage.tsx';

function gateway(opts: { refuseToggle?: boolean } = {}) {
  const list = [
    strategy(),
    strategy({
      id: 2,
      name: 'rsi-swing',
      module: 'rsi-mean-reversion',
      enabled: false,
      status: 'disabled',
      realizedPnl: '-40',
      openPositions: 0,
      createdAt: '2025-01-02T09:00:00.000Z',
    }),
  ];
  let detail = strategyDetail({ params: { fast: 5, slow: 20 } });
  return new FakeApi()
    .on('GET', '/api/strategies', StrategyList, () => ({ items: list }))
    .on('GET', '/api/strategies/:name', StrategyDetail, () => detail)
    .on('PATCH', '/api/strategies/:name', StrategySummary, (req) => {
      const body = req.body as {
        enabled?: boolean;
        params?: { fast: number; slow: number };
        exits?: Record<string, number>;
      };
      // The server's own bound, which the form leaves to it: a stop-loss is below 100%.
      if (body.exits?.stopLoss !== undefined && body.exits.stopLoss >= 1) {
        return apiError(
          400,
          'invalid_input',
          'invalid input: exits.stopLoss: Too big: expected number to be <1',
          {
            'exits.stopLoss': 'Too big: expected number to be <1',
          },
        );
      }
      if (body.enabled !== undefined) {
        if (opts.refuseToggle) return apiError(409, 'conflict', 'trading is halted');
        const s = list.find((x) => x.name === req.params.name);
        if (!s) return apiError(404, 'not_found', `strategy ${req.params.name} not found`);
        s.enabled = body.enabled;
        return s;
      }
      // The module's own rule, which the browser cannot check: fast < slow.
      if (body.params && body.params.fast >= body.params.slow) {
        return apiError(400, 'invalid_input', 'invalid input: params.fast: must be smaller than slow', {
          'params.fast': 'must be smaller than slow',
        });
      }
      detail = { ...detail, params: body.params ?? detail.params, exits: body.exits ?? detail.exits };
      const { moduleInfo: _m, positions: _p, recentSignals: _r, ...summary } = detail;
      return summary;
    })
    .on('POST', '/api/strategies/:name/run', RunStrategyResult, (req) => ({
      strategy: req.params.name,
      signalIds: [11, 12],
    }))
    .on('POST', '/api/strategies/reload', ReloadResult, () => ({
      modules: ['sma-crossover', 'macd'],
      errors: { mine: 'SyntaxError' },
    }))
    .on('GET', '/api/strategies/modules', StrategyModuleList, () => ({
      items: [
        {
          name: 'sma-crossover',
          description: 'Buy when the fast SMA crosses above the slow one.',
          source: 'builtin' as const,
          paramsSchema,
          defaults: { fast: 10, slow: 30 },
          error: null,
        },
        {
          name: 'broken-user',
          description: '',
          source: 'user' as const,
          paramsSchema: null,
          defaults: null,
          error: 'SyntaxError',
        },
      ],
    }))
    .on('GET', '/api/bars/series', BarSeriesList, () => ({
      items: [
        {
          symbol: 'NVDA',
          timeframe: '1Day' as const,
          first: '2024-01-02T00:00:00Z',
          last: '2025-03-03T00:00:00Z',
        },
      ],
    }))
    .on('POST', '/api/strategies', StrategySummary, (req) => {
      const body = req.body as StrategyCreate;
      if (list.some((x) => x.name === body.name))
        return apiError(409, 'conflict', `strategy "${body.name}" exists`, {
          name: 'is taken by another strategy',
        });
      const params = { fast: 10, slow: 30, ...body.params } as { fast: number; slow: number };
      if (params.fast >= params.slow)
        return apiError(400, 'invalid_input', 'invalid input: params.fast: must be smaller than slow', {
          'params.fast': 'must be smaller than slow',
        });
      const created = strategy({
        id: 3,
        name: body.name,
        params,
        symbols: body.symbols,
        enabled: false,
        status: 'disabled',
        openPositions: 0,
        realizedPnl: '0',
        unrealizedPnl: null,
      });
      list.push(created);
      return created;
    })
    .on('DELETE', '/api/strategies/:name', Ok, (req) => {
      const i = list.findIndex((x) => x.name === req.params.name);
      if (list[i].enabled)
        return apiError(409, 'conflict', 'is enabled; disable it first', { name: 'is enabled' });
      list.splice(i, 1);
      return { ok: true as const };
    })
    .on('GET', '/api/account', AccountSummary, () => account)
    .on('GET', '/api/parity', ParityReport, (req) => ({
      from: `${req.query.get('from')}T00:00:00.000Z`,
      to: `${req.query.get('to')}T23:59:59.999Z`,
      strategies: [
        {
          strategy: 'sma-fast',
          module: 'sma-crossover',
          symbols: ['AAPL'],
          timeframe: '1Min' as const,
          signals: { live: 3, backtest: 3, matched: 2 },
          fills: { live: 2, backtest: 2, matched: 1 },
          differences: [
            {
              kind: 'fill' as const,
              symbol: 'AAPL',
              barTime: '2025-03-03T14:31:00.000Z',
              live: { side: 'buy' as const, qty: 5, price: 101.2, time: '2025-03-03T14:32:00.000Z' },
              backtest: { side: 'buy' as const, qty: 5, price: 101, time: '2025-03-03T14:32:00.000Z' },
              cause: 'slippage against the simulated price: 101.2 live vs 101 simulated (19.8 bps)',
            },
          ],
          error: null,
        },
      ],
    }))
    .install();
}

describe('Strategies', () => {
  it('lists strategies with status and P&L, without accessibility violations', async () => {
    gateway();
    const { container } = renderWithSwr(<StrategiesPage />);
    const table = await screen.findByRole('table', { name: 'Strategies' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(within(rows[1]).getByText('rsi-swing')).toBeTruthy();
    expect(within(rows[1]).getByText('disabled')).toBeTruthy();
    expect(within(rows[2]).getByText('+$120.50').className).toContain('pos');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('toggles a strategy at once and keeps the server’s answer', async () => {
    const api = gateway();
    renderWithSwr(<StrategiesPage />);
    const toggle = await screen.findByRole('switch', { name: 'sma-fast enabled' });
    expect(toggle.getAttribute('aria-checked')).toBe('true');
    fireEvent.click(toggle);
    await waitFor(() =>
      expect(screen.getByRole('switch', { name: 'sma-fast enabled' }).getAttribute('aria-checked')).toBe(
        'false',
      ),
    );
    await waitFor(() => expect(api.callsTo('PATCH', '/api/strategies/sma-fast')).toHaveLength(1));
    expect(api.callsTo('PATCH', '/api/strategies/sma-fast')[0].body).toEqual({ enabled: false });
    // After the revalidation the list still says off: the fake (the "server") changed.
    await waitFor(() => expect(api.callsTo('GET', '/api/strategies').length).toBeGreaterThan(1));
    expect(screen.getByRole('switch', { name: 'sma-fast enabled' }).getAttribute('aria-checked')).toBe(
      'false',
    );
  });

  it('rolls the switch back and says why when the gateway refuses', async () => {
    gateway({ refuseToggle: true });
    renderWithSwr(<StrategiesPage />);
    fireEvent.click(await screen.findByRole('switch', { name: 'sma-fast enabled' }));
    expect(await screen.findByText('sma-fast: trading is halted')).toBeTruthy();
    await waitFor(() =>
      expect(screen.getByRole('switch', { name: 'sma-fast enabled' }).getAttribute('aria-checked')).toBe(
        'true',
      ),
    );
  });

  it('runs a strategy now and reloads modules, reporting each outcome', async () => {
    const api = gateway();
    renderWithSwr(<StrategiesPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Run now: rsi-swing' }));
    expect(await screen.findByText('rsi-swing: 2 new signals.')).toBeTruthy();
    expect(api.callsTo('POST', '/api/strategies/rsi-swing/run')).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Reload modules' }));
    expect(await screen.findByText('Loaded 2 modules; failed: mine (SyntaxError)')).toBeTruthy();
  });
});

describe('New strategy', () => {
  it("creates one from its module's form; the browser's and the server's errors show inline", async () => {
    const api = gateway();
    const { container } = renderWithSwr(<StrategiesPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'New strategy' }));
    const form = await screen.findByRole('form', { name: 'New strategy' });
    // Only modules that load are offered; their parameters come from the module's schema.
    const module = within(form).getByLabelText('Module') as HTMLSelectElement;
    expect([...module.options].map((o) => o.value)).toEqual(['sma-crossover']);
    const fast = (await within(form).findByLabelText('fast')) as HTMLInputElement;
    expect(fast.value).toBe('10');
    // Defaults from the stored bars.
    expect((within(form).getByLabelText('Symbols') as HTMLInputElement).value).toBe('NVDA');
    expect((within(form).getByLabelText('Timeframe') as HTMLSelectElement).value).toBe('1Day');
    expect(await axeViolations(container)).toEqual([]);

    const name = within(form).getByLabelText('Name');
    const create = within(form).getByRole('button', { name: 'Create strategy' });
    fireEvent.change(name, { target: { value: 'Not A Slug' } });
    fireEvent.click(create);
    expect(await within(form).findByText('Name must be lower-case letters, digits and dashes')).toBeTruthy();
    expect(api.callsTo('POST', '/api/strategies')).toHaveLength(0);

    fireEvent.change(name, { target: { value: 'sma-fast' } });
    fireEvent.click(create);
    expect(await within(form).findByText('Name is taken by another strategy')).toBeTruthy();
    expect(name.getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(name, { target: { value: 'nvda-trend' } });
    fireEvent.change(fast, { target: { value: '40' } });
    fireEvent.click(create);
    expect(await within(form).findByText('fast must be smaller than slow')).toBeTruthy();

    fireEvent.change(fast, { target: { value: '5' } });
    fireEvent.change(within(form).getByLabelText('Symbols'), { target: { value: 'nvda, amd' } });
    fireEvent.change(within(form).getByLabelText('Sizing'), { target: { value: 'fixed_notional' } });
    fireEvent.change(within(form).getByLabelText('Dollars per trade'), { target: { value: '500' } });
    fireEvent.change(within(form).getByLabelText('Stop loss (%)'), { target: { value: '5' } });
    fireEvent.change(within(form).getByLabelText('Trailing stop (%)'), { target: { value: '2.5' } });
    fireEvent.click(create);
    expect(await screen.findByText('Created nvda-trend (disabled).')).toBeTruthy();
    expect(api.callsTo('POST', '/api/strategies').at(-1)?.body).toEqual({
      name: 'nvda-trend',
      module: 'sma-crossover',
      params: { fast: 5, slow: 30 },
      symbols: ['NVDA', 'AMD'],
      timeframe: '1Day',
      sizing: { type: 'fixed_notional', notional: '500' },
      exits: { stopLoss: 0.05, trailingStop: 0.025 },
      allowShort: false,
      enabled: false,
    });
    expect(screen.queryByRole('form', { name: 'New strategy' })).toBeNull();
    const table = await screen.findByRole('table', { name: 'Strategies' });
    await waitFor(() => expect(within(table).getByText('nvda-trend')).toBeTruthy());
  });

  it('deletes after confirmation, and says why an enabled one cannot be', async () => {
    const api = gateway();
    renderWithSwr(<StrategiesPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete sma-fast' }));
    const refused = await screen.findByRole('dialog', { name: 'Delete sma-fast?' });
    expect(within(refused).getByText('It is enabled: switch it off first.')).toBeTruthy();
    expect(
      (within(refused).getByRole('button', { name: 'Delete strategy' }) as HTMLButtonElement).disabled,
    ).toBe(true);
    fireEvent.click(within(refused).getByRole('button', { name: 'Cancel' }));
    expect(api.callsTo('DELETE', '/api/strategies/sma-fast')).toHaveLength(0);

    fireEvent.click(screen.getByRole('button', { name: 'Delete rsi-swing' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete rsi-swing?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete strategy' }));
    expect(await screen.findByText('Deleted rsi-swing.')).toBeTruthy();
    expect(api.callsTo('DELETE', '/api/strategies/rsi-swing')).toHaveLength(1);
    await waitFor(() => expect(screen.queryByText('rsi-swing')).toBeNull());
  });
});

describe('Live vs backtest', () => {
  it('compares a chosen period and lists each difference with its cause', async () => {
    const api = gateway();
    const { container } = renderWithSwr(<StrategiesPage />);
    const period = await screen.findByRole('form', { name: 'Parity period' });
    // The last week up to the venue's day (the account's time): both strategies are older.
    await waitFor(() =>
      expect((within(period).getByLabelText('To') as HTMLInputElement).value).toBe('2025-03-03'),
    );
    expect((within(period).getByLabelText('From') as HTMLInputElement).value).toBe('2025-02-24');
    fireEvent.change(within(period).getByLabelText('Strategy'), { target: { value: 'sma-fast' } });
    fireEvent.click(within(period).getByRole('button', { name: 'Compare' }));
    const table = await screen.findByRole('table', { name: 'Differences of sma-fast' });
    expect(within(table).getByText(/^slippage against the simulated price: 101.2 live vs 101/)).toBeTruthy();
    expect(within(table).getByText('buy 5 @ 101.2')).toBeTruthy();
    expect(screen.getByText(/Signals: 2 of 3 live matched, 3 in the backtest/)).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Causes of the differences of sma-fast' }).textContent).toBe(
      '1 × slippage against the simulated price',
    );
    const [call] = api.callsTo('GET', '/api/parity');
    expect(Object.fromEntries(call.query)).toEqual({
      from: '2025-02-24',
      to: '2025-03-03',
      strategy: 'sma-fast',
    });
    expect(await axeViolations(container)).toEqual([]);
  });
});

describe('Strategy parameters', () => {
  it('renders the form from the module schema and shows the browser’s and the server’s errors inline', async () => {
    const api = gateway();
    const { container } = renderWithSwr(<StrategyDetailPage name="sma-fast" />);
    const fast = (await screen.findByLabelText('fast')) as HTMLInputElement;
    const slow = screen.getByLabelText('slow') as HTMLInputElement;
    expect(fast.value).toBe('5');
    expect(slow.value).toBe('20');
    expect(fast.min).toBe('1');
    expect(screen.getByText('Fast SMA length in bars · ≥ 1, ≤ 500')).toBeTruthy();
    expect(await axeViolations(container)).toEqual([]);

    fireEvent.change(fast, { target: { value: '0' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save parameters' }));
    expect(await screen.findByText('fast must be at least 1')).toBeTruthy();
    expect(fast.getAttribute('aria-invalid')).toBe('true');
    expect(api.callsTo('PATCH', '/api/strategies/sma-fast')).toHaveLength(0);

    fireEvent.change(fast, { target: { value: '25' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save parameters' }));
    expect(await screen.findByText('fast must be smaller than slow')).toBeTruthy();
    expect(api.callsTo('PATCH', '/api/strategies/sma-fast')[0].body).toEqual({
      params: { fast: 25, slow: 20 },
    });

    fireEvent.change(fast, { target: { value: '7' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save parameters' }));
    expect(await screen.findByText('Saved.')).toBeTruthy();
    expect(api.callsTo('PATCH', '/api/strategies/sma-fast')[1].body).toEqual({
      params: { fast: 7, slow: 20 },
    });
    expect(screen.queryByText(/must be/)).toBeNull();
  });
});

describe('Strategy exits', () => {
  it('edits the exits as percentages, blank meaning none, with the server’s errors at their input', async () => {
    const api = gateway();
    const { container } = renderWithSwr(<StrategyDetailPage name="sma-fast" />);
    const form = await screen.findByRole('form', { name: 'Exits' });
    const stop = within(form).getByLabelText('Stop loss (%)') as HTMLInputElement;
    expect(stop.value).toBe('');
    expect(await axeViolations(container)).toEqual([]);

    fireEvent.change(stop, { target: { value: '-2' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save exits' }));
    expect(await within(form).findByText('Stop loss (%) must be a number above 0')).toBeTruthy();
    expect(api.callsTo('PATCH', '/api/strategies/sma-fast')).toHaveLength(0);

    fireEvent.change(stop, { target: { value: '150' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save exits' }));
    expect(await within(form).findByText('Stop loss (%) Too big: expected number to be <1')).toBeTruthy();
    expect(stop.getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(stop, { target: { value: '5' } });
    fireEvent.change(within(form).getByLabelText('Trailing stop (%)'), { target: { value: '2.5' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save exits' }));
    expect(await within(form).findByText('Exits saved; they apply from the next bar.')).toBeTruthy();
    expect(api.callsTo('PATCH', '/api/strategies/sma-fast').at(-1)?.body).toEqual({
      exits: { stopLoss: 0.05, trailingStop: 0.025 },
    });
    // The control panel shows what the server now holds.
    expect(await screen.findByText('stop loss 5.00%, trailing stop 2.50%')).toBeTruthy();
  });
});
