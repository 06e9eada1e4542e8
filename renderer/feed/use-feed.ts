// A live feed for one filter: subscribe on the stream, take the snapshot,
// then batch incoming events and apply them once per animation frame (one
// React render per frame, however fast events arrive). Older events page in
// from the API.
import { useCallback, useEffect, useRef, useState } from 'react';
import { EventPageSchema, routes, type ApiEvent, type EventFilter } from '../../main/api/contract.js';
import { apiGet } from '../api/client.js';
import { stream } from '../api/stream.js';
import { FeedBuffer } from './feed-buffer.js';

const TAIL = 500;
const PAGE = 1000;

export interface Feed {
  readonly buffer: FeedBuffer;
  readonly version: number;
  readonly loadingOlder: boolean;
  readonly error: string | undefined;
  /** Rows dropped from the start in the last update (the view keeps its place). */
  readonly droppedRef: { current: number };
  loadOlder(): void;
  jumpToLatest(): void;
}

export function useFeed(filter: EventFilter): Feed {
  const bufferRef = useRef(new FeedBuffer());
  const droppedRef = useRef(0);
  const [version, setVersion] = useState(0);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string>();
  const [epoch, setEpoch] = useState(0);
  const key = JSON.stringify(filter);

  useEffect(() => {
    const buffer = bufferRef.current;
    let pending: ApiEvent[] = [];
    let frame = 0;
    const flush = (): void => {
      frame = 0;
      droppedRef.current += buffer.append(pending);
      pending = [];
      setVersion(buffer.version);
    };
    const parsed = JSON.parse(key) as EventFilter;
    let current = -1;
    const off = stream.on((msg) => {
      if (msg.type === 'snapshot' && msg.subscription === current) {
        pending = [];
        buffer.reset(msg.events, msg.has_older);
        droppedRef.current = 0;
        setVersion(buffer.version);
      } else if (msg.type === 'events' && msg.subscription === current) {
        for (const e of msg.events) pending.push(e);
        if (frame === 0) frame = requestAnimationFrame(flush);
      } else if (msg.type === 'error') setError(msg.error);
    });
    current = stream.subscribe(parsed, TAIL);
    return () => {
      off();
      if (frame !== 0) cancelAnimationFrame(frame);
      stream.unsubscribe();
    };
  }, [key, epoch]);

  const loadOlder = useCallback(() => {
    const buffer = bufferRef.current;
    const before = buffer.oldestId;
    if (!buffer.hasOlder || before === undefined || loadingOlder) return;
    setLoadingOlder(true);
    const parsed = JSON.parse(key) as EventFilter;
    apiGet(routes.events, EventPageSchema, { ...parsed, before, limit: PAGE, order: 'desc' })
      .then((page) => {
        if (buffer.oldestId !== before) return;
        buffer.prepend(page.events.slice().reverse(), page.has_more);
        setVersion(buffer.version);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setLoadingOlder(false));
  }, [key, loadingOlder]);

  const jumpToLatest = useCallback(() => setEpoch((n) => n + 1), []);

  return { buffer: bufferRef.current, version, loadingOlder, error, droppedRef, loadOlder, jumpToLatest };
}
