// The live event feed: every event committed to the audit database, by this
// process or any other (`personae run` in another terminal writes the same
// WAL database). Polls for new rows every ~50 ms, and at once when this
// process's own store commits a batch.
import type { AuditEvent } from '../../sandbox/audit/event.js';
import type { AuditStore } from '../../sandbox/audit/store.js';
import type { EventFilter } from '../api/contract.js';

const PAGE = 5000;

/** Does an event match a feed filter? The same semantics as the SQL query (kind prefixes, ASCII case-insensitive text). */
export function matchesFilter(e: AuditEvent, f: EventFilter): boolean {
  if (f.session !== undefined && e.session !== f.session) return false;
  if (f.persona !== undefined && e.persona !== f.persona) return false;
  if (f.decision !== undefined && e.decision !== f.decision) return false;
  if (f.kind !== undefined && f.kind !== '*') {
    if (f.kind.endsWith('*') ? !e.kind.startsWith(f.kind.slice(0, -1)) : e.kind !== f.kind) return false;
  }
  if (f.text !== undefined && f.text !== '') {
    const t = f.text.toLowerCase();
    if (![e.tool, e.target, e.reason].some((v) => v !== null && v.toLowerCase().includes(t))) return false;
  }
  return true;
}

export class EventFeed {
  private lastId: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private readonly listeners = new Set<(events: readonly AuditEvent[]) => void>();
  private readonly unflush: () => void;

  constructor(
    private readonly store: AuditStore,
    private readonly intervalMs = 50,
    private readonly onError: (e: Error) => void = () => undefined,
  ) {
    this.lastId = store.query({ order: 'desc', limit: 1 })[0]?.id;
    this.unflush = store.onFlush(() => this.pollSoon());
  }

  start(): void {
    this.timer ??= setInterval(() => this.poll(), this.intervalMs);
  }

  onEvents(listener: (events: readonly AuditEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Reads every event committed since the last poll and hands it to the listeners. Synchronous. */
  poll(): void {
    try {
      for (;;) {
        const events = this.store.query(this.lastId === undefined ? { limit: PAGE } : { afterId: this.lastId, limit: PAGE });
        if (events.length === 0) return;
        this.lastId = events[events.length - 1]?.id;
        for (const l of this.listeners) {
          try {
            l(events);
          } catch (e) {
            this.onError(e as Error);
          }
        }
        if (events.length < PAGE) return;
      }
    } catch (e) {
      this.onError(e as Error);
    }
  }

  private pollSoon(): void {
    this.soon ??= setImmediate(() => {
      this.soon = undefined;
      this.poll();
    });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearImmediate(this.soon);
    this.timer = undefined;
    this.unflush();
    this.listeners.clear();
  }
}
