import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ManualOrderResult, Order, OrderPage, TradePage } from '@weaver/shared/schemas';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Route } from '../app/router.ts';
import { apiError, FakeApi } from '../test/fakeApi.ts';
import { order, trade } from '../test/fixtures.ts';
import { axeViolations, renderWithSwr } from '../test/render.tsx';
import OrdersPage from './OrdersPage.tsx';

const route = (qs = ''): Route => ({ segments: ['orders'], query: new URLSearchParams(qs) });

/** 120 orders, newest first; cursors are the id to continue below, like the gateway's keyset pages. */
function gateway() {
  const orders = Array.from({ length: 120 }, (_, i) =>
    order(120 - i, { symbol: i % 2 ? 'MSFT' : 'AAPL', status: i < 3 ? 'new' : 'filled' }),
  );
  const page = <T extends { id: number }>(rows: T[], q: URLSearchParams) => {
    const limit = Number(q.get('limit') ?? 50);
    const after = q.get('cursor') ? Number(q.get('cursor')?.slice(1)) : Number.POSITIVE_INFINITY;
    const rest = rows.filter((r) => r.id < after);
    const items = rest.slice(0, limit);
    return { items, nextCursor: rest.length > limit ? `c${items[items.length - 1].id}` : null };
  };
  return new FakeApi()
    .on('GET', '/api/orders', OrderPage, (req) => {
      const symbol = req.query.get('symbol');
      const status = req.query.get('status');
      return page(
        orders.filter(
          (o) =>
            (!symbol || o.symbol === symbol) &&
            (!status || (status === 'open' ? o.status === 'new' : o.status === status)),
        ),
        req.query,
      );
    })
    .on('GET', '/api/trades', TradePage, (req) =>
      page([trade(3), trade(2, { side: 'buy', realizedPnl: '0' }), trade(1)], req.query),
    )
    .on('POST', '/api/orders/:id/cancel', Order, () => apiError(409, 'conflict', 'order is already filled'))
    .on('POST', '/api/orders', ManualOrderResult, (req) => {
      const b = req.body as { qty?: string; symbol: string; clientOrderId: string };
      if (!b.qty)
        return apiError(400, 'invalid_input', 'invalid input', {
          qty: 'exactly one of qty or notional is required',
        });
      const placed = order(500, {
        symbol: b.symbol,
        clientOrderId: b.clientOrderId,
        status: 'accepted',
        filledQty: '0',
        filledAvgPrice: null,
      });
      return { outcome: 'ordered' as const, order: placed, reason: null };
    })
    .install();
}

beforeEach(() => {
  window.location.hash = '';
});

describe('Orders & trades', () => {
  it('pages through orders with keyset cursors, forwards and back', async () => {
    const api = gateway();
    renderWithSwr(<OrdersPage route={route()} />);
    const table = await screen.findByRole('table', { name: 'Orders' });
    expect(within(table).getAllByRole('row')).toHaveLength(51);
    expect(screen.getByText('Page 1 · 50 rows')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Older ›' }));
    expect(await screen.findByText('Page 2 · 50 rows')).toBeTruthy();
    expect(api.calls.at(-1)?.query.get('cursor')).toBe('c71');
    fireEvent.click(screen.getByRole('button', { name: 'Older ›' }));
    expect(await screen.findByText('Page 3 · 20 rows')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Older ›' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: '‹ Newer' }));
    expect(await screen.findByText('Page 2 · 50 rows')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Newest' }));
    expect(await screen.findByText('Page 1 · 50 rows')).toBeTruthy();
  });

  it('sends the filters to the gateway and keeps them in the URL', async () => {
    const api = gateway();
    const view = renderWithSwr(<OrdersPage route={route()} />);
    await screen.findByRole('table', { name: 'Orders' });
    fireEvent.change(screen.getByLabelText('Symbol'), { target: { value: 'msft' } });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'open' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(window.location.hash).toBe('#/orders?tab=orders&status=open&symbol=MSFT');
    view.rerender(<OrdersPage route={route('tab=orders&status=open&symbol=MSFT')} />);
    await waitFor(() =>
      expect(api.calls.some((c) => c.query.toString() === 'status=open&symbol=MSFT&limit=50')).toBe(true),
    );
    const table = await screen.findByRole('table', { name: 'Orders' });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(2));
    expect(within(table).getByText('MSFT')).toBeTruthy();
  });

  it('shows the empty state when nothing matches', async () => {
    gateway();
    renderWithSwr(<OrdersPage route={route('symbol=TSLA')} />);
    expect(await screen.findByText('No orders match these filters.')).toBeTruthy();
  });

  it('exports every page of the filtered list as CSV', async () => {
    const api = gateway();
    let csv = '';
    // jsdom cannot download: catch the file where the browser would receive it.
    class DownloadURL extends URL {
      static override createObjectURL(b: Blob): string {
        void b.text().then((t) => {
          csv = t;
        });
        return 'blob:x';
      }
      static override revokeObjectURL(): void {}
    }
    vi.stubGlobal('URL', DownloadURL);
    renderWithSwr(<OrdersPage route={route('symbol=AAPL')} />);
    await screen.findByRole('table', { name: 'Orders' });
    fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    expect(await screen.findByText('Exported 60 rows.')).toBeTruthy();
    const exportCalls = api.calls.filter((c) => c.query.get('limit') === '500');
    expect(exportCalls.every((c) => c.query.get('symbol') === 'AAPL')).toBe(true);
    await waitFor(() => expect(csv.split('\r\n')).toHaveLength(62));
    expect(csv.startsWith('id,created_at,client_order_id,')).toBe(true);
  });

  it('shows a refused cancel and a manual order’s field errors', async () => {
    const api = gateway();
    renderWithSwr(<OrdersPage route={route()} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel order 120' }));
    expect(await screen.findByText('Order #120: order is already filled')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'New order' }));
    const dialog = screen.getByRole('dialog', { name: 'New order' });
    fireEvent.change(within(dialog).getByLabelText('Symbol'), { target: { value: 'nvda' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Place order' }));
    expect(await within(dialog).findByText('exactly one of qty or notional is required')).toBeTruthy();
    expect(within(dialog).getByLabelText('Quantity').getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(within(dialog).getByLabelText('Quantity'), { target: { value: '2' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Place order' }));
    expect(await screen.findByText('Order #500 buy NVDA: accepted.')).toBeTruthy();
    // Both attempts carried the same idempotency key: the retry cannot place a second order.
    const posts = api
      .callsTo('POST', '/api/orders')
      .map((c) => (c.body as { clientOrderId: string }).clientOrderId);
    expect(posts).toHaveLength(2);
    expect(posts[0]).toMatch(/^manual-[0-9a-f]{24}$/);
    expect(posts[1]).toBe(posts[0]);
  });

  it('lists trades on their own tab, without accessibility violations', async () => {
    gateway();
    const { container } = renderWithSwr(<OrdersPage route={route('tab=trades')} />);
    const table = await screen.findByRole('table', { name: 'Trades' });
    expect(within(table).getAllByRole('row')).toHaveLength(4);
    expect(within(table).getAllByText('+$43.00')).toHaveLength(2);
    expect(await axeViolations(container)).toEqual([]);
  });
});
