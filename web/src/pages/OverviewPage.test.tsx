import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  AccountSummary,
  AuditPage,
  CloseResult,
  EquityHistory,
  PnlCalendar,
  PositionList,
} from '@weaver/shared/schemas';
import { describe, expect, it } from 'vitest';
import { apiError, FakeApi } from '../test/fakeApi.ts';
import { account, order, pnlDays, position } from '../test/fixtures.ts';
import { axeViolations, renderWithSwr } from '../test/render.tsx';
import { OverviewPage } from './OverviewPage.tsx';

function gateway(positions = [position(), position({ symbol: 'MSFT', qty: '-3', unrealizedPnl: '-12.5' })]) {
  let open = positions;
  return new FakeApi()
    .on('GET', '/api/account', AccountSummary, () => account)
    .on('GET', '/api/account/equity', EquityHistory, () => ({ exchange: 'sim', points: [] }))
    .on('GET', '/api/positions', PositionList, () => ({ items: open }))
    .on('GET', '/api/pnl', PnlCalendar, () => pnlDays)
    .on('GET', '/api/system/events', AuditPage, () => ({
      items: [
        {
          id: 1,
          eventId: 'e1',
          type: 'trades.recorded' as const,
          correlationId: 'c1',
          occurredAt: '2025-03-03T14:31:00.000Z',
          payload: {
            trades: [
              {
                id: 1,
                strategy: 'sma-fast',
                symbol: 'AAPL',
                side: 'sell',
                qty: '5',
                price: '190.1',
                realizedPnl: '43',
              },
            ],
          },
        },
      ],
      nextCursor: null,
    }))
    .on('POST', '/api/positions/close', CloseResult, (req) => {
      const { symbol } = req.body as { symbol: string };
      open = open.filter((p) => p.symbol !== symbol);
      return {
        orders: [order(99, { symbol, side: 'sell', status: 'new', filledQty: '0', filledAvgPrice: null })],
        errors: [],
      };
    })
    .install();
}

describe('Overview', () => {
  it('shows the account, open positions, activity and the P&L calendar', async () => {
    gateway();
    const { container } = renderWithSwr(<OverviewPage />);
    expect(await screen.findByText('$102,345.67')).toBeTruthy();
    expect(screen.getByText('-$123.45').className).toContain('neg');
    const table = await screen.findByRole('table', { name: 'Open positions' });
    expect(within(table).getByText('AAPL')).toBeTruthy();
    expect(within(table).getByText('MSFT')).toBeTruthy();
    expect(within(table).getByText('-$12.50').className).toContain('neg');
    expect(await screen.findByText('Sold 5 AAPL @ 190.1, P&L +$43.00')).toBeTruthy();
    expect(
      screen.getByText('The equity curve starts after the first account snapshots are recorded.'),
    ).toBeTruthy();
    expect(await axeViolations(container)).toEqual([]);
  });

  it('closes a position only after confirmation, then refreshes the positions', async () => {
    const api = gateway();
    renderWithSwr(<OverviewPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Close AAPL position of sma-fast' }));
    const dialog = screen.getByRole('dialog', { name: 'Close AAPL?' });
    expect(api.callsTo('POST', '/api/positions/close')).toHaveLength(0);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Send market order' }));
    expect(await screen.findByText('Sent 1 closing order.')).toBeTruthy();
    expect(api.callsTo('POST', '/api/positions/close')[0].body).toEqual({
      strategy: 'sma-fast',
      symbol: 'AAPL',
    });
    await waitFor(() =>
      expect(screen.queryByRole('button', { name: 'Close AAPL position of sma-fast' })).toBeNull(),
    );
    expect(screen.getByRole('button', { name: 'Close MSFT position of sma-fast' })).toBeTruthy();
  });

  it('cancelling the dialog sends nothing', async () => {
    const api = gateway();
    renderWithSwr(<OverviewPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Close all' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('says so when there are no positions', async () => {
    gateway([]);
    renderWithSwr(<OverviewPage />);
    expect(await screen.findByText('No open positions.')).toBeTruthy();
  });

  it('shows an error with a retry when the account cannot be read', async () => {
    let fail = true;
    gateway().on('GET', '/api/account', AccountSummary, () =>
      fail ? apiError(502, 'exchange_unavailable', 'the exchange did not answer') : account,
    );
    renderWithSwr(<OverviewPage />);
    const alert = await screen.findByText('the exchange did not answer');
    fail = false;
    fireEvent.click(
      within(alert.closest('[role=alert]') as HTMLElement).getByRole('button', { name: 'Retry' }),
    );
    expect(await screen.findByText('$102,345.67')).toBeTruthy();
  });
});
