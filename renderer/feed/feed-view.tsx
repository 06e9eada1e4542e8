// The audit feed: a virtualized list over the bounded buffer (only the
// visible rows exist in the DOM), following the live tail while the user is
// at the bottom, paging older events in near the top. A row shows its full
// target and reason on hover; a click (or Enter) opens it in the detail pane
// below: every field, its JSON, its neighbours in the session. In a narrow
// feed the kind moves into the target cell and the tool column goes.
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { ApiEvent } from '../../main/api/contract.js';
import { clockTime, decisionLabel } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';
import { EventDetail } from './event-detail.js';
import type { Feed } from './use-feed.js';

export const ROW_HEIGHT = 26;

const Row = memo(function Row({ e, selected, onOpen }: { e: ApiEvent; selected: boolean; onOpen: (e: ApiEvent) => void }) {
  const d = decisionLabel(e.decision, e.kind);
  const onKey = (k: KeyboardEvent): void => {
    if (k.key === 'Enter' || k.key === ' ') {
      k.preventDefault();
      onOpen(e);
    }
  };
  const time = clockTime(e.ts);
  return (
    <div
      className={`feed-row${e.decision === 'deny' ? ' is-denied' : ''}${selected ? ' is-selected' : ''}`} data-kind={e.kind} data-decision={d || undefined} data-id={e.id}
      role="button" tabIndex={0} aria-pressed={selected} onClick={() => onOpen(e)} onKeyDown={onKey}
    >
      <span className="c-time" title={time}>{time.slice(0, 8)}<span className="ms">{time.slice(8)}</span></span>
      <span className="c-persona"><PersonaChip name={e.persona} /></span>
      <span className="c-kind">{e.kind}</span>
      <span className="c-tool" title={e.tool ?? ''}>{e.tool ?? ''}</span>
      <span className="c-target" data-k={e.kind} title={[e.kind, e.tool, e.target].filter(Boolean).join(' · ')}>{e.target ?? ''}</span>
      <span className={`c-decision d-${d || 'none'}`}>{d}</span>
      <span className="c-reason" title={e.reason ?? ''}>{e.reason ?? ''}</span>
    </div>
  );
});

export function FeedView({ feed, label }: { feed: Feed; label: string }) {
  const items = feed.buffer.items;
  const scrollRef = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const prev = useRef<{ first: string | undefined }>({ first: undefined });
  const [selected, setSelected] = useState<ApiEvent>();
  const open = useCallback((e: ApiEvent) => setSelected(e), []);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (i) => items[i]?.id ?? i,
  });

  // Keep the user's place when rows are dropped from or prepended to the start; follow the tail otherwise.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const first = items[0]?.id;
    const was = prev.current.first;
    prev.current.first = first;
    if (following.current) {
      el.scrollTop = el.scrollHeight;
      feed.droppedRef.current = 0;
      return;
    }
    if (was === undefined || first === was) return;
    if (feed.droppedRef.current > 0) {
      el.scrollTop -= feed.droppedRef.current * ROW_HEIGHT;
      feed.droppedRef.current = 0;
    } else {
      const idx = items.findIndex((e, i) => i < 20_000 && e.id === was);
      if (idx > 0) el.scrollTop += idx * ROW_HEIGHT;
    }
  }, [feed.version, items, feed.droppedRef]);

  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const onScroll = (): void => {
      following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT * 2;
      if (el.scrollTop < ROW_HEIGHT * 40) feed.loadOlder();
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => el.removeEventListener('scroll', onScroll);
  }, [feed]);

  return (
    <div className="feed" aria-label={label}>
      <div className="feed-head feed-row">
        <span className="c-time">time</span>
        <span className="c-persona">persona</span>
        <span className="c-kind">kind</span>
        <span className="c-tool">tool</span>
        <span className="c-target">target</span>
        <span className="c-decision">decision</span>
        <span className="c-reason">reason</span>
      </div>
      {feed.buffer.hasOlder && <div className="feed-note">{feed.loadingOlder ? 'loading older events…' : 'scroll up for older events'}</div>}
      <div className="feed-scroll" ref={scrollRef} data-testid="feed-scroll">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((v) => {
            const e = items[v.index];
            return e === undefined ? null : (
              <div key={v.key} className="feed-slot" style={{ transform: `translateY(${v.start}px)` }}>
                <Row e={e} selected={e.id === selected?.id} onOpen={open} />
              </div>
            );
          })}
        </div>
        {items.length === 0 && <p className="empty">No events yet.</p>}
      </div>
      <div className="feed-foot">
        <span data-testid="feed-count">{items.length.toLocaleString()} events</span>
        {feed.buffer.detached && (
          <button type="button" className="link" onClick={feed.jumpToLatest}>
            {feed.buffer.missed.toLocaleString()} newer events — jump to latest
          </button>
        )}
        {feed.error && <span className="error-text">{feed.error}</span>}
      </div>
      {selected && <EventDetail event={selected} onOpen={open} onClose={() => setSelected(undefined)} />}
    </div>
  );
}
