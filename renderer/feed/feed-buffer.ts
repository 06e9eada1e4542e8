// The feed's bounded buffer. Live events append at the end; older pages
// prepend at the start. Past `max`, following the live tail drops the oldest
// (they can be paged in again); paging far back drops the newest and
// detaches from the live tail until the user jumps back to it.
import type { ApiEvent } from '../../main/api/contract.js';

export const DEFAULT_FEED_MAX = 100_000;

export class FeedBuffer {
  items: ApiEvent[] = [];
  /** More events exist before items[0] (in the database). */
  hasOlder = false;
  /** Live events are not being appended (the newest were dropped to make room for older ones). */
  detached = false;
  /** Live events missed while detached. */
  missed = 0;
  /** Bumped on every change, for React. */
  version = 0;

  constructor(readonly max = DEFAULT_FEED_MAX) {}

  reset(events: readonly ApiEvent[], hasOlder: boolean): void {
    this.items = events.slice(-this.max);
    this.hasOlder = hasOlder || events.length > this.max;
    this.detached = false;
    this.missed = 0;
    this.version++;
  }

  /** Appends live events; returns how many were dropped from the start. */
  append(events: readonly ApiEvent[]): number {
    if (events.length === 0) return 0;
    if (this.detached) {
      this.missed += events.length;
      this.version++;
      return 0;
    }
    for (const e of events) this.items.push(e);
    const over = this.items.length - this.max;
    this.version++;
    if (over <= 0) return 0;
    this.items.splice(0, over);
    this.hasOlder = true;
    return over;
  }

  /** Prepends an older page (oldest first). */
  prepend(events: readonly ApiEvent[], hasOlder: boolean): void {
    this.items = events.concat(this.items);
    this.hasOlder = hasOlder;
    const over = this.items.length - this.max;
    if (over > 0) {
      this.items.length = this.max;
      this.detached = true;
    }
    this.version++;
  }

  get oldestId(): string | undefined {
    return this.items[0]?.id;
  }
}
