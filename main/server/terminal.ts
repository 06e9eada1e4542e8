// A session's terminal for WebSocket clients: PTY output batched (~16 ms or
// 200 KB, as Hyper and VS Code do) before it crosses to the browser, a
// bounded replay for clients that attach later, input and resize back. Every
// byte reaches a client once: in the replay it gets on attaching, or in a
// batch after it.
import type { WebSocket } from 'ws';
import type { RunningProcess } from '../../sandbox/launch/spawn.js';
import { TerminalClientMessageSchema, type TerminalServerMessage } from '../api/contract.js';

const BATCH_MS = 16;
const BATCH_BYTES = 200 * 1024;
const REPLAY_CHARS = 256 * 1024;
/** A client this far behind is dropped; it reconnects and gets the replay. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export class TerminalChannel {
  private replay = '';
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly clients = new Set<WebSocket>();
  private exitCode: number | undefined;
  private readonly unlisten: () => void;

  private sized: (() => void) | undefined;

  /** `onSized`: called once, after the first client's size was given to the PTY. */
  constructor(private readonly proc: RunningProcess, onSized?: () => void) {
    this.sized = onSized;
    this.unlisten = proc.onData((chunk) => this.output(chunk));
    void proc.exited.then((code) => {
      this.flush();
      this.exitCode = code;
      this.broadcast({ type: 'exit', code });
    });
  }

  attach(ws: WebSocket): void {
    // What is pending goes to the clients there before; the replay then holds all of it.
    this.flush();
    this.clients.add(ws);
    this.send(ws, { type: 'replay', data: this.replay });
    if (this.exitCode !== undefined) this.send(ws, { type: 'exit', code: this.exitCode });
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      let value: unknown;
      try {
        value = JSON.parse(String(raw));
      } catch {
        ws.close(1007, 'malformed message');
        return;
      }
      const msg = TerminalClientMessageSchema.safeParse(value);
      if (!msg.success) {
        ws.close(1007, 'invalid message');
        return;
      }
      if (this.exitCode !== undefined) return;
      if (msg.data.type === 'input') this.proc.write(msg.data.data);
      else {
        this.proc.resize(msg.data.cols, msg.data.rows);
        this.started();
      }
    });
    ws.on('close', () => this.clients.delete(ws));
    ws.on('error', () => this.clients.delete(ws));
  }

  /** The command may start (once): a client gave its size, or nobody came in time. */
  started(): void {
    const sized = this.sized;
    this.sized = undefined;
    sized?.();
  }

  close(): void {
    this.sized = undefined;
    this.flush();
    this.unlisten();
    for (const ws of this.clients) ws.close(1001, 'session gone');
    this.clients.clear();
  }

  private output(chunk: string): void {
    this.pending += chunk;
    if (this.pending.length >= BATCH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const data = this.pending;
    this.pending = '';
    this.replay = (this.replay + data).slice(-REPLAY_CHARS);
    this.broadcast({ type: 'output', data });
  }

  private broadcast(msg: TerminalServerMessage): void {
    for (const ws of this.clients) this.send(ws, msg);
  }

  private send(ws: WebSocket, msg: TerminalServerMessage): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.close(1013, 'too far behind');
      return;
    }
    ws.send(JSON.stringify(msg));
  }
}
