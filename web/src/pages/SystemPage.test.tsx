import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  AuditPage,
  HaltResult,
  HaltStatus,
  RiskLimitsView,
  RunPage,
  SystemStatus,
} from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import { apiError, FakeApi } from '../test/fakeApi.ts';
import { globalHalt, noHalt, systemStatus } from '../test/fixtures.ts';
import { axeViolations, renderWithSwr } from '../test/render.tsx';
import SystemPage from './SystemPage.tsx';

function gateway() {
  let halt: HaltStatus = noHalt;
  let limits: RiskLimitsView['limits'] = { maxOpenOrders: 10 };
  return new FakeApi()
    .on('GET', '/api/risk-limits', RiskLimitsView, () => ({ limits, problem: null }))
    .on('PUT', '/api/risk-limits', RiskLimitsView, (req) => {
      const body = req.body as Record<string, unknown>;
      if (body.dailyLossLimit === '-5') {
        return apiError(400, 'invalid_input', 'invalid input: dailyLossLimit', {
          dailyLossLimit: 'must be greater than 0',
        });
      }
      limits = body as RiskLimitsView['limits'];
      return { limits, problem: null };
    })
    .on('GET', '/api/system', SystemStatus, () => systemStatus(halt))
    .on('GET', '/api/kill-switch', HaltStatus, () => halt)
    .on('POST', '/api/kill-switch', HaltResult, (req) => {
      const b = req.body as { reason: string; flatten: boolean };
      halt = { halted: true, halts: [{ ...globalHalt.halts[0], reason: b.reason }] };
      return { ...halt, canceledOrders: 2, flattenOrders: [], errors: [] };
    })
    .on('DELETE', '/api/kill-switch', HaltStatus, () => {
      halt = noHalt;
      return halt;
    })
    .on('GET', '/api/system/runs', RunPage, (req) => ({
      items:
        req.query.get('outcome') === 'error'
          ? []
          : [
              {
                id: 3,
                functionName: 'fetch-bars',
                correlationId: 'c3',
                trigger: 'cron',
                startedAt: '2025-03-03T14:30:00.000Z',
                finishedAt: '2025-03-03T14:30:01.250Z',
                outcome: 'ok' as const,
                statusCode: 200,
                error: null,
              },
            ],
      nextCursor: null,
    }))
    .on('GET', '/api/system/events', AuditPage, () => ({
      items: [
        {
          id: 2,
          eventId: 'e2',
          type: 'functions.failed' as const,
          correlationId: 'corr-xyz',
          occurredAt: '2025-03-03T14:29:00.000Z',
          payload: { functionName: 'place-order', runId: 9, error: 'exchange answered 503' },
        },
        {
          id: 1,
          eventId: 'e1',
          type: 'bars.fetched' as const,
          correlationId: 'corr-abc',
          occurredAt: '2025-03-03T14:28:00.000Z',
          payload: { exchange: 'sim', timeframe: '1Min', symbols: ['AAPL'], count: 1, latest: null },
        },
      ],
      nextCursor: null,
    }))
    .install();
}

describe('System', () => {
  it('shows function health, schedules, infrastructure, runs and the event log', async () => {
    gateway();
    const { container } = renderWithSwr(<SystemPage />);
    const fns = await screen.findByRole('table', { name: 'Functions' });
    const rows = within(fns).getAllByRole('row');
    expect(within(rows[1]).getByText('fetch-bars')).toBeTruthy();
    expect(within(rows[1]).getByText('* * * * *')).toBeTruthy();
    expect(within(rows[2]).getByText('failing')).toBeTruthy();
    expect(within(rows[2]).getByText('weaver.signals.created')).toBeTruthy();
    expect(screen.getByText('1/2 ok')).toBeTruthy();
    const runs = await screen.findByRole('table', { name: 'Recent function runs' });
    expect(within(runs).getByText('1.3 s')).toBeTruthy();
    expect(await screen.findByText('place-order failed: exchange answered 503')).toBeTruthy();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('filters the event log by type and text, and the runs by outcome', async () => {
    const api = gateway();
    renderWithSwr(<SystemPage />);
    await screen.findByText('1 1Min bars for AAPL');
    fireEvent.change(screen.getByLabelText('Search'), { target: { value: 'corr-xyz' } });
    expect(screen.queryByText('1 1Min bars for AAPL')).toBeNull();
    expect(screen.getByText('place-order failed: exchange answered 503')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'bars.fetched' } });
    await waitFor(() => expect(api.calls.some((c) => c.query.get('type') === 'bars.fetched')).toBe(true));
    fireEvent.change(screen.getByLabelText('Outcome'), { target: { value: 'error' } });
    expect(await screen.findByText('No runs match.')).toBeTruthy();
  });

  it('halts trading only after confirmation, then releases the kill switch', async () => {
    const api = gateway();
    renderWithSwr(<SystemPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Halt trading' }));
    const dialog = screen.getByRole('dialog', { name: 'Halt all trading?' });
    expect(api.callsTo('POST', '/api/kill-switch')).toHaveLength(0);
    fireEvent.change(within(dialog).getByLabelText('Reason'), { target: { value: 'flash crash' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Halt trading' }));
    expect(await screen.findByText('Trading halted. 2 open orders canceled.')).toBeTruthy();
    expect(api.callsTo('POST', '/api/kill-switch')[0].body).toEqual({
      reason: 'flash crash',
      flatten: false,
    });
    expect(await screen.findByText(/flash crash — since/)).toBeTruthy();

    fireEvent.click(await screen.findByRole('button', { name: 'Release kill switch' }));
    fireEvent.click(
      within(screen.getByRole('dialog', { name: 'Resume trading?' })).getByRole('button', {
        name: 'Resume trading',
      }),
    );
    expect(await screen.findByText('Trading resumed.')).toBeTruthy();
    expect(api.callsTo('DELETE', '/api/kill-switch')).toHaveLength(1);
    expect(await screen.findByRole('button', { name: 'Halt trading' })).toBeTruthy();
  });

  it('edits the risk limits, blank meaning no limit, with errors at their field', async () => {
    const api = gateway();
    renderWithSwr(<SystemPage />);
    const open = (await screen.findByLabelText('Max open orders')) as HTMLInputElement;
    expect(open.value).toBe('10');
    fireEvent.change(open, { target: { value: '2.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    expect(await screen.findByText('Max open orders must be a whole number')).toBeTruthy();
    expect(api.callsTo('PUT', '/api/risk-limits')).toHaveLength(0);

    fireEvent.change(open, { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Daily loss limit ($)'), { target: { value: '-5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    expect(await screen.findByText('Daily loss limit ($) must be greater than 0')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Daily loss limit ($)'), { target: { value: '500' } });
    fireEvent.change(screen.getByLabelText('Max order ($)'), { target: { value: '2500.50' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save limits' }));
    expect(
      await screen.findByText('Risk limits saved; the next order is checked against them.'),
    ).toBeTruthy();
    expect(api.callsTo('PUT', '/api/risk-limits').at(-1)?.body).toEqual({
      maxOrderNotional: '2500.50',
      dailyLossLimit: '500',
    });
  });
});
