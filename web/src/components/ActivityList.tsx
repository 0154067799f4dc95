import type { ActivityItem } from '../api/activity.ts';
import { describeEvent } from '../lib/describeEvent.ts';
import { time } from '../lib/format.ts';

export function ActivityList({ items, showType = false }: { items: ActivityItem[]; showType?: boolean }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: the list scrolls, so keyboard users must be able to focus it
    <ol className="activity" aria-live="polite" aria-relevant="additions" aria-label="Events" tabIndex={0}>
      {items.map((item) => {
        const { text, tone } = describeEvent({ type: item.type, payload: item.payload as never });
        return (
          <li key={item.eventId} className={`activity-item tone-${tone}`}>
            <time dateTime={item.occurredAt} className="activity-time">
              {time(item.occurredAt)}
            </time>
            {showType ? <span className="activity-type">{item.type}</span> : null}
            <span className="activity-text">{text}</span>
          </li>
        );
      })}
    </ol>
  );
}
