import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  ReloadResult,
  RunStrategyResult,
  StrategyDetail,
  StrategyList,
  StrategySummary,
} from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import { apiError, FakeApi } from '../test/fakeApi.ts';
import { strategy, strategyDetail } from '../test/fixtures.ts';
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
    }),
  ];
  let detail = strategyDetail({ params: { fast: 5, slow: 20 } });
  return new FakeApi()
    .on('GET', '/api/strategies', StrategyList, () => ({ items: list }))
    .on('GET', '/api/strategies/:name', StrategyDetail, () => detail)
    .on('PATCH', '/api/strategies/:name', StrategySummary, (req) => {
      const body = req.body as { enabled?: boolean; params?: { fast: number; slow: number } };
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
      detail = { ...detail, params: body.params ?? detail.params };
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
