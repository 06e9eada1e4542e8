// The live stream (WebSocket /api/stream): session changes and pending
// approvals to every client; audit events to each client that subscribed,
// filtered on the server, batched per poll. A client that falls too far
// behind is closed (it reconnects and takes a fresh snapshot) rather than
// buffered without bound.
import type { WebSocket } from 'ws';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import type { AuditStore } from '../../sandbox/audit/store.js';
import {
  StreamClientMessageSchema, type EventFilter, type PendingApproval, type SessionInfo, type StreamServerMessage,
} from '../api/contract.js';
import { matchesFilter } from './event-feed.js';

const MAX_BUFFERED = 8 * 1024 * 1024;
/** Events per message: large polls go out in slices the browser parses quickly. */
const SLICE = 2000;

interface Client {
  readonly ws: WebSocket;
  subscription: { id: number; filter: EventFilter; seen: Set<string> } | undefined;
}

export class StreamHub {
  private readonly clients = new Set<Client>();

  constructor(
    private readonly store: AuditStore,
    private readonly snapshot: () => { sessions: SessionInfo[]; approvals: PendingApproval[] },
    /** Brings the feed up to date before a snapshot is taken. */
    private readonly catchUp: () => void,
  ) {}

  attach(ws: WebSocket): void {
    const client: Client = { ws, subscription: undefined };
    this.clients.add(client);
    const { sessions, approvals } = this.snapshot();
    this.send(client, { type: 'hello', sessions, approvals });
    ws.on('message', (raw, isBinary) => this.onMessage(client, String(raw), isBinary));
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
  }

  events(events: readonly AuditEvent[]): void {
    for (const c of this.clients) {
      const sub = c.subscription;
      if (sub === undefined) continue;
      const matching = events.filter((e) => matchesFilter(e, sub.filter) && !sub.seen.has(e.id));
      if (sub.seen.size > 0) sub.seen.clear();
      for (let i = 0; i < matching.length; i += SLICE) {
        this.send(c, { type: 'events', subscription: sub.id, events: matching.slice(i, i + SLICE) });
      }
    }
  }

  session(info: SessionInfo): void {
    for (const c of this.clients) this.send(c, { type: 'session', session: info });
  }

  approvals(list: readonly PendingApproval[]): void {
    for (const c of this.clients) this.send(c, { type: 'approvals', approvals: [...list] });
  }

  close(): void {
    for (const c of this.clients) c.ws.close(1001, 'backend closing');
    this.clients.clear();
  }

  private onMessage(c: Client, raw: string, isBinary: boolean): void {
    let value: unknown;
    try {
      value = isBinary ? undefined : JSON.parse(raw);
    } catch {
      value = undefined;
    }
    const msg = StreamClientMessageSchema.safeParse(value);
    if (!msg.success) {
      this.send(c, { type: 'error', error: `invalid message: ${msg.error.issues[0]?.message ?? 'not JSON'}` });
      return;
    }
    if (msg.data.type === 'pause') {
      c.subscription = undefined;
      return;
    }
    const { id, filter, tail } = msg.data;
    // Everything committed up to now reaches the other clients first; the snapshot covers it for this one.
    this.catchUp();
    let events: AuditEvent[] = [];
    try {
      events = tail === 0 ? [] : this.store.query({ ...filter, order: 'desc', limit: tail + 1 }).reverse();
    } catch (e) {
      this.send(c, { type: 'error', error: (e as Error).message });
      return;
    }
    const hasOlder = events.length > tail;
    if (hasOlder) events = events.slice(1);
    // Another process may commit between the catch-up and the snapshot: skip those once in the next batch.
    c.subscription = { id, filter, seen: new Set(events.slice(-200).map((e) => e.id)) };
    this.send(c, { type: 'snapshot', subscription: id, events, has_older: hasOlder });
  }

  private send(c: Client, msg: StreamServerMessage): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED) {
      c.ws.close(1013, 'too far behind');
      return;
    }
    c.ws.send(JSON.stringify(msg));
  }
}
