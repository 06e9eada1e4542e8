// The agent's terminal: xterm.js on the session's PTY over a WebSocket.
// Input and resize go back; output arrives batched by the backend. The view's
// size goes to the PTY as soon as it is known (a session launched from the app
// starts its command only then), and a (re)connection replaces the screen with
// the backend's replay, so nothing shows twice.
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import { routes, TerminalServerMessageSchema, type TerminalClientMessage } from '../../main/api/contract.js';
import { socketTarget } from '../api/client.js';

export function TerminalView({ sessionId }: { sessionId: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('connecting…');

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const term = new Terminal({
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      cursorBlink: true,
      theme: { background: '#1b1f27', foreground: '#d8dee9' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    let ws: WebSocket | undefined;
    let closed = false;
    let retry: number | undefined;
    const send = (m: TerminalClientMessage): void => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    };
    const connect = (): void => {
      const { url, protocols } = socketTarget(routes.sessionTerminal(sessionId));
      ws = new WebSocket(url, protocols);
      ws.onopen = () => {
        setStatus('');
        resize();
      };
      ws.onmessage = (ev: MessageEvent<string>) => {
        const msg = TerminalServerMessageSchema.safeParse(JSON.parse(ev.data));
        if (!msg.success) return;
        if (msg.data.type === 'replay') {
          term.reset();
          term.write(msg.data.data);
        } else if (msg.data.type === 'output') term.write(msg.data.data);
        else setStatus(`exited with code ${msg.data.code}`);
      };
      ws.onclose = (ev) => {
        if (closed) return;
        if (ev.code === 1013) retry = window.setTimeout(connect, 500);
        else setStatus((s) => s || 'terminal closed');
      };
    };
    connect();
    const input = term.onData((data) => send({ type: 'input', data }));
    /** Fits the view to its box and tells the PTY; nothing while the box has no size yet (the observer calls again). */
    function resize(): void {
      let size: { cols: number; rows: number } | undefined;
      try {
        size = fit.proposeDimensions();
        if (size === undefined || !Number.isFinite(size.cols) || !Number.isFinite(size.rows)) return;
        fit.fit();
      } catch {
        return;
      }
      el?.setAttribute('data-cols', String(term.cols));
      el?.setAttribute('data-rows', String(term.rows));
      send({ type: 'resize', cols: Math.max(10, term.cols), rows: Math.max(5, term.rows) });
    }
    const ro = new ResizeObserver(() => resize());
    ro.observe(el);
    resize();
    return () => {
      closed = true;
      window.clearTimeout(retry);
      ro.disconnect();
      input.dispose();
      ws?.close();
      term.dispose();
    };
  }, [sessionId]);

  return (
    <div className="terminal-wrap">
      <div className="term-host" ref={host} data-testid="terminal" />
      {status && <div className="terminal-status">{status}</div>}
    </div>
  );
}
