import { lazy, Suspense } from 'react';
import type { TimeChartProps } from '../charts/TimeChart.tsx';

// The chart library is the largest dependency: it loads with the first chart, never in the first load.
const TimeChart = lazy(() => import('../charts/TimeChart.tsx'));

export function Chart(props: TimeChartProps) {
  return (
    <Suspense
      fallback={
        <div className="chart chart-loading" style={{ height: props.height ?? 300 }} role="status">
          Loading chart…
        </div>
      }
    >
      <TimeChart {...props} />
    </Suspense>
  );
}
