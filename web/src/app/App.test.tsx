import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import {
  AccountSummary,
  AuditPage,
  EquityHistory,
  HaltStatus,
  Ok,
  PnlCalendar,
  PositionList,
  Session,
} from '@weaver/shared/schemas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearToken, saveToken } from '../api/token.ts';
import { apiError, eventStream, FakeApi } from '../test/fakeApi.ts';
import { account, noHalt, position } from '../test/fixtures.ts';
import '../test/render.tsx';
import { App } from './App.tsx';

const TOKEN = 'right-token';

function gateway(events = eventStream()) {
  let positions = [position()];
  const api = new FakeApi()
    .on('POST', '/api/session', Session, (req) =>
      (req.body as { token: string }).token === TOKEN
        ? { ok: true as const, expiresAt: '2030-01-01T00:00:00.000Z' }
        : apiError(401, 'invalid_token', 'the API token is wrong'),
    )
    .on('DELETE', '/api/session', Ok, () => ({ ok: true as const }))
    .on('GET', '/api/account', AccountSummary, (req) =>
      req.headers.authorization === `Bearer ${TOKEN}`
        ? account
        : apiError(401, 'invalid_token', 'the API token is wrong'),
    )
    .on('GET', '/api/account/equity', EquityHistory, () => ({ exchange: 'sim', points: [] }))
    .on('GET', '/api/positions', PositionList, () => ({ items: positions }))
    .on('GET', '/api/pnl', PnlCalendar, () => ({ period: 'day' as const, buckets: [] }))
    .on('GET', '/api/kill-switch', HaltStatus, () => noHalt)
    .on('GET', '/api/system/events', AuditPage, () => ({ items: [], nextCursor: null }))
    .on('GET', '/api/events', null, () => events.reply)
    .install();
  return {
    api,
    setPositions: (p: typeof positions) => {
      positions = p;
    },
  };
}

beforeEach(() => {
  clearToken();
  window.location.hash = '#/overview';
});
afterEach(() => clearToken());

describe('login', () => {
  it('refuses a wrong token and keeps a right one for the session only', async () => {
    gateway();
    render(<App />);
    const input = screen.getByLabelText('API token');
    fireEvent.change(input, { target: { value: 'wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByText('That token was not accepted.')).toBeTruthy();
    expect(input.getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(input, { target: { value: TOKEN } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Overview' })).toBeTruthy();
    expect(sessionStorage.getItem('weaver.apiToken')).toBe(TOKEN);
    expect(localStorage.getItem('weaver.apiToken')).toBeNull();
    expect(await screen.findByText('$102,345.67')).toBeTruthy();
  });

  it('remembers the token on the device when asked, and logging out forgets it', async () => {
    const { api } = gateway();
    render(<App />);
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: TOKEN } });
    fireEvent.click(screen.getByLabelText('Remember on this device'));
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByRole('heading', { level: 1, name: 'Overview' });
    expect(localStorage.getItem('weaver.apiToken')).toBe(TOKEN);
    fireEvent.click(screen.getByRole('button', { name: 'Log out' }));
    expect(await screen.findByLabelText('API token')).toBeTruthy();
    expect(localStorage.getItem('weaver.apiToken')).toBeNull();
    expect(api.callsTo('DELETE', '/api/session')).toHaveLength(1);
  });

  it('returns to the login screen when the gateway stops accepting the token', async () => {
    gateway();
    saveToken('revoked', false);
    render(<App />);
    expect(await screen.findByLabelText('API token')).toBeTruthy();
    expect(sessionStorage.getItem('weaver.apiToken')).toBeNull();
  });
});

describe('live updates', () => {
  it('streams events into the activity feed and refreshes the views they touch', async () => {
    const events = eventStream();
    const { api, setPositions } = gateway(events);
    saveToken(TOKEN, false);
    render(<App />);
    const positions = await screen.findByRole('table', { name: 'Open positions' });
    expect(positions.textContent).toContain('AAPL');
    expect(await screen.findByText('Live')).toBeTruthy();
    await waitFor(() =>
      expect(api.callsTo('GET', '/api/events')[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`),
    );
    events.push(
      'retry: 2000\nid: 10\nevent: ready\ndata: {"mode":"nats","lastEventId":"10","gap":false}\n\n',
    );
    const reads = api.callsTo('GET', '/api/positions').length;

    setPositions([position(), position({ symbol: 'NVDA', qty: '3' })]);
    const fill = {
      id: 'orders.updated:42:filled',
      type: 'orders.updated',
      occurredAt: '2025-03-03T14:35:00.000Z',
      correlationId: 'corr-1',
      payload: {
        orders: [
          {
            id: 42,
            clientOrderId: 'sma-fast-42',
            strategy: 'sma-fast',
            symbol: 'NVDA',
            side: 'buy',
            status: 'filled',
            filledQty: '3',
          },
        ],
      },
    };
    events.push(`id: 11\ndata: ${JSON.stringify(fill)}\n\n`);
    expect(await screen.findByText('Order buy NVDA filled (sma-fast)')).toBeTruthy();
    await waitFor(() =>
      expect(screen.getByRole('table', { name: 'Open positions' }).textContent).toContain('NVDA'),
    );
    expect(api.callsTo('GET', '/api/positions').length).toBe(reads + 1);
  });
});
