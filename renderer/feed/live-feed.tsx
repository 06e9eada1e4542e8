// A filterable live feed panel.
import { useMemo, useState } from 'react';
import type { EventFilter } from '../../main/api/contract.js';
import { useLive } from '../api/live-state.js';
import { FeedFilters } from './feed-filters.js';
import { FeedView } from './feed-view.js';
import { useFeed } from './use-feed.js';

export function LiveFeed({ fixed, label }: { fixed?: Partial<EventFilter>; label: string }) {
  const live = useLive();
  const [filter, setFilter] = useState<EventFilter>({});
  const effective = useMemo(() => ({ ...filter, ...fixed }), [filter, fixed]);
  const feed = useFeed(effective);
  const personas = useMemo(() => [...new Set([...live.sessions.values()].map((s) => s.persona))].sort(), [live.sessions]);
  const sessions = useMemo(() => [...live.sessions.keys()], [live.sessions]);
  return (
    <section className="live-feed">
      <FeedFilters value={filter} onChange={setFilter} options={{ personas, sessions, fixed }} />
      <FeedView feed={feed} label={label} />
    </section>
  );
}
