// The live stream: one WebSocket for the whole app, reconnecting with a
// bounded backoff. On every (re)connect the server says hello (sessions,
// approvals) and the current feed subscription is sent again.
import {
  routes, StreamServerMessageSchema, type EventFilter, type StreamClientMessage, type StreamServerMessage,
} from '../../main/api/contract.js';
import { socketTarget } from './client.js';

export type StreamListener = (msg: StreamServerMessage) => void;
export type ConnectionState = 'connecting' | 'open' | 'closed';

export class StreamClient {
  private ws: WebSocket | undefined;
  private readonly listeners = new Set<StreamListener>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private subscription: { id: number; filter: EventFilter; tail: number } | undefined;
  private nextId = 1;
  private retry = 0;
  private stopped = false;
  state: ConnectionState = 'connecting';

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }

  on(listener: StreamListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  /** Replaces the feed subscription; returns its id (messages for older ids are stale). */
  subscribe(filter: EventFilter, tail: number): number {
    const id = this.nextId++;
    this.subscription = { id, filter, tail };
    this.send({ type: 'subscribe', id, filter, tail });
    return id;
  }

  unsubscribe(): void {
    this.subscription = undefined;
    this.send({ type: 'pause' });
  }

  private send(msg: StreamClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private connect(): void {
    const { url, protocols } = socketTarget(routes.stream);
    this.setState('connecting');
    const ws = new WebSocket(url, protocols);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.setState('open');
      const sub = this.subscription;
      if (sub) this.send({ type: 'subscribe', id: sub.id, filter: sub.filter, tail: sub.tail });
    };
    ws.onmessage = (ev: MessageEvent<string>) => {
      let value: unknown;
      try {
        value = JSON.parse(ev.data);
      } catch {
        return;
      }
      const msg = StreamServerMessageSchema.safeParse(value);
      if (!msg.success) return;
      for (const l of this.listeners) l(msg.data);
    };
    ws.onclose = () => {
      this.setState('closed');
      if (this.stopped) return;
      const delay = Math.min(5000, 250 * 2 ** this.retry++);
      window.setTimeout(() => this.connect(), delay);
    };
  }
}

export const stream = new StreamClient();
