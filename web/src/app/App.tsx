import { lazy, type ReactNode, Suspense, useSyncExternalStore } from 'react';
import { SWRConfig } from 'swr';
import { fetcher } from '../api/client.ts';
import { useEventStream } from '../api/live.ts';
import { readToken, subscribeToken } from '../api/token.ts';
import { Loading } from '../components/states.tsx';
import { LoginPage } from '../pages/LoginPage.tsx';
import { OverviewPage } from '../pages/OverviewPage.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { Layout } from './Layout.tsx';
import { SECTIONS } from './pages.ts';
import { type Route, useRoute } from './router.ts';

// Overview is the landing page and ships in the first load; the others load when first visited.
const StrategiesPage = lazy(() => import('../pages/StrategiesPage.tsx'));
const StrategyDetailPage = lazy(() => import('../pages/StrategyDetailPage.tsx'));
const OrdersPage = lazy(() => import('../pages/OrdersPage.tsx'));
const BacktestsPage = lazy(() => import('../pages/BacktestsPage.tsx'));
const BacktestDetailPage = lazy(() => import('../pages/BacktestDetailPage.tsx'));
const BacktestComparePage = lazy(() => import('../pages/BacktestComparePage.tsx'));
const MarketPage = lazy(() => import('../pages/MarketPage.tsx'));
const SystemPage = lazy(() => import('../pages/SystemPage.tsx'));

function resolve(route: Route): { section: string; title: string; page: ReactNode } {
  const [section = 'overview', id] = route.segments;
  const label = SECTIONS.find((s) => s.path === section)?.label;
  switch (section) {
    case 'strategies':
      return id
        ? { section, title: `Strategy ${id}`, page: <StrategyDetailPage name={id} /> }
        : { section, title: 'Strategies', page: <StrategiesPage /> };
    case 'orders':
      return { section, title: 'Orders & trades', page: <OrdersPage route={route} /> };
    case 'backtests':
      if (id === 'compare') {
        return {
          section,
          title: 'Compare backtests',
          page: <BacktestComparePage ids={route.query.get('ids') ?? ''} />,
        };
      }
      return id
        ? { section, title: `Backtest #${id}`, page: <BacktestDetailPage id={id} /> }
        : { section, title: 'Backtests', page: <BacktestsPage route={route} /> };
    case 'market':
      return { section, title: 'Market', page: <MarketPage route={route} /> };
    case 'system':
      return { section, title: 'System', page: <SystemPage /> };
    case 'overview':
      return { section, title: 'Overview', page: <OverviewPage /> };
    default:
      return {
        section,
        title: label ?? 'Not found',
        page: (
          <p>
            There is no page here. <a href="#/overview">Go to the overview.</a>
          </p>
        ),
      };
  }
}

function Dashboard() {
  useEventStream();
  const route = useRoute();
  const { section, title, page } = resolve(route);
  return (
    <Layout current={section} title={title}>
      <ErrorBoundary key={route.segments.join('/')}>
        <Suspense fallback={<Loading label="Loading page…" />}>{page}</Suspense>
      </ErrorBoundary>
    </Layout>
  );
}

export function App() {
  const token = useSyncExternalStore(subscribeToken, readToken, readToken);
  if (!token) return <LoginPage />;
  // One cache per login: nothing read with one token is shown after logging in again (or as someone else).
  return (
    <SWRConfig
      key={token}
      value={{
        provider: () => new Map(),
        fetcher,
        // Live events drive freshness; focus revalidation covers a laptop waking from sleep.
        revalidateOnFocus: true,
        dedupingInterval: 1000,
        errorRetryCount: 3,
        keepPreviousData: true,
      }}
    >
      {/* Last line of defence: a crash outside a page (layout, unmount) shows an error, not a blank screen. */}
      <ErrorBoundary>
        <Dashboard />
      </ErrorBoundary>
    </SWRConfig>
  );
}
