// The app's terminal channel delivers every byte of a real PTY exactly once
// to a WebSocket client, also one that attaches while output is still being
// batched (it gets it in its replay, not again in the next batch).
import type { AddressInfo } from 'node:net';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { TerminalChannel } from '../../main/server/terminal.js';
import type { RunningProcess } from '../../sandbox/launch/spawn.js';

/** A real PTY running `script`, seen as the RunningProcess a session hands the channel. */
function ptyProcess(script: string): RunningProcess {
  const term = pty.spawn('/bin/sh', ['-c', script], { cols: 80, rows: 24 });
  const exited = new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
  return {
    pid: term.pid,
    exited,
    onData: (l) => {
      const d = term.onData((c) => l(c, 'stdout'));
      return () => d.dispose();
    },
    write: (d) => term.write(d),
    resize: (c, r) => term.resize(c, r),
    kill: (s) => process.kill(term.pid, s),
  };
}

describe('terminal channel', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('a client attaching while output is batched gets each line once', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => wss.close());
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const serverSide = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    cleanups.push(() => client.close());
    let received = '';
    let exit: number | undefined;
    client.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; data?: string; code?: number };
      if (msg.type === 'exit') exit = msg.code;
      else received += msg.data ?? '';
    });
    await new Promise<void>((r) => client.once('open', () => r()));
    const ws = await serverSide;

    const proc = ptyProcess('sleep 0.3; echo once-a; sleep 0.3; echo once-b');
    const channel = new TerminalChannel(proc);
    cleanups.push(() => channel.close());
    // Attach right after the first output reached the channel: it is pending in a batch then.
    const off = proc.onData(() => {
      off();
      channel.attach(ws);
    });
    await proc.exited;
    const end = Date.now() + 3000;
    while (exit === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(exit).toBe(0);
    expect(received.match(/once-a/g)?.length).toBe(1);
    expect(received.match(/once-b/g)?.length).toBe(1);
  });
});
