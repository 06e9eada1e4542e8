// Watches the sandbox's bridges (socat inside, listening on loopback for the
// proxy and the broker) from outside, through the sandbox's network namespace
// as /proc/PID/net/tcp shows it. The agent runs as the same user inside and
// can kill them: that closes the network or the broker for the rest of the
// session (fail closed), and this says so once per bridge. The init script
// starts the agent only once every bridge listens, so from the agent's first
// exec on, a missing listener is a dead bridge; a listener replaced by
// another one (a different socket inode than first seen) counts as dead too.
import { readFileSync } from 'node:fs';
import { INSIDE } from './plan.js';

export interface Bridge {
  readonly port: number;
  readonly name: string;
  /** What is now refused, for the event's reason. */
  readonly consequence: string;
}

/** The bridges every sandbox has, and what their loss refuses. */
export const SANDBOX_BRIDGES: readonly Bridge[] = [
  { port: INSIDE.proxyPort, name: 'proxy bridge', consequence: 'all network access' },
  { port: INSIDE.brokerPort, name: 'broker bridge', consequence: 'every tool call and shell command' },
];

/** Loopback listening sockets in a tcp table: port -> socket inode. */
export function loopbackListeners(table: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const [ip, port] = (f[1] ?? '').split(':');
    if (ip === '0100007F' && f[3] === '0A' && port !== undefined && f[9] !== undefined) out.set(parseInt(port, 16), f[9]);
  }
  return out;
}

/** Polls every `intervalMs` until stopped; returns the stop function. `started`: the agent's command has started. */
export function watchBridges(pid: () => number | undefined, started: () => boolean, bridges: readonly Bridge[], onGone: (b: Bridge) => void, intervalMs = 250): () => void {
  const seen = new Map<number, string>();
  const reported = new Set<number>();
  const check = (): void => {
    const p = pid();
    if (p === undefined || !started()) return;
    let table: string;
    try {
      table = readFileSync(`/proc/${p}/net/tcp`, 'utf8');
    } catch {
      return; // the sandbox is ending
    }
    const now = loopbackListeners(table);
    for (const b of bridges) {
      const inode = now.get(b.port);
      const first = seen.get(b.port) ?? inode;
      if (first !== undefined) seen.set(b.port, first);
      if ((inode === undefined || inode !== first) && !reported.has(b.port)) {
        reported.add(b.port);
        onGone(b);
      }
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
