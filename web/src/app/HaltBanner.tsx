import type { HaltStatus } from '@weaver/shared/schemas';
import useSWR from 'swr';
import { routes } from '../api/routes.ts';

/** Visible on every page while trading is halted: nobody should wonder why no orders go out. */
export function HaltBanner() {
  const { data } = useSWR<HaltStatus>(routes.killSwitch);
  if (!data?.halted) return null;
  const reasons = data.halts.map((h) => `${h.scope}: ${h.reason}`).join(' · ');
  return (
    <div className="halt-banner" role="alert">
      <strong>Trading halted.</strong> <span>{reasons || 'No new orders are sent.'}</span>{' '}
      <a href="#/system">Kill switch</a>
    </div>
  );
}
