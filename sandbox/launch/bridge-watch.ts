// Watches the sandbox's bridges (socat inside, listening on loopback for the
// proxy and the broker) from outside. The agent runs as the same user inside
// and can kill them: that closes the network or the broker for the rest of the
// session (fail closed), and this says so once per bridge. The init script
// starts the agent only once every bridge listens, so from the agent's first
// exec on, a missing listener is a dead bridge; a listener replaced by
// another one (a different socket than first seen) counts as dead too.
//
// The sandbox's TCP table (/proc/PID/net/tcp) is read once, to find each
// listening socket and the bridge process holding it: reading that file walks
// the kernel's whole connection hash table, which every network namespace
// shares (about 3 ms of CPU each time on a 24 GiB machine). After that, a
// check is one readlink per bridge: does that process still hold that socket?
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { INSIDE } from './plan.js';
import { childrenOf, isZombie } from './pidns.js';

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

/** Where a bridge's listening socket is held: a descriptor of a process in the sandbox, or nowhere found. */
type Holder = { readonly pid: number; readonly fd: string; readonly socket: string } | 'none' | 'unseen';

/** Processes searched for the bridges' sockets, at most (the agent may have started many by then). */
const MAX_SEARCHED = 2000;

/** For each bridge port: the process descriptor holding its listening socket; 'unseen' when it listens but no holder was found. */
function locate(init: number, table: string, bridges: readonly Bridge[]): Map<number, Holder> {
  const listeners = loopbackListeners(table);
  const wanted = new Map<string, number>();
  const out = new Map<number, Holder>();
  for (const b of bridges) {
    const inode = listeners.get(b.port);
    if (inode === undefined) out.set(b.port, 'none');
    else {
      wanted.set(`socket:[${inode}]`, b.port);
      out.set(b.port, 'unseen');
    }
  }
  const queue = [init];
  for (let searched = 0; queue.length > 0 && wanted.size > 0 && searched < MAX_SEARCHED; searched++) {
    const pid = queue.shift() as number;
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      // gone, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const port = wanted.get(link);
      if (port === undefined) continue;
      out.set(port, { pid, fd, socket: link });
      wanted.delete(link);
    }
    queue.push(...childrenOf(pid));
  }
  return out;
}

/** Polls every `intervalMs` until stopped; returns the stop function. `started`: the agent's command has started. */
export function watchBridges(pid: () => number | undefined, started: () => boolean, bridges: readonly Bridge[], onGone: (b: Bridge) => void, intervalMs = 250): () => void {
  const reported = new Set<number>();
  let holders: Map<number, Holder> | undefined;
  /** Bridges whose holder was not found: watched through the table, by socket inode, as first seen. */
  const seen = new Map<number, string>();
  const check = (): void => {
    const p = pid();
    if (p === undefined || !started() || isZombie(p)) return; // not running yet, or ending
    let table: string | undefined;
    const readTable = (): string | undefined => {
      try {
        return (table ??= readFileSync(`/proc/${p}/net/tcp`, 'utf8'));
      } catch {
        return undefined; // the sandbox is ending
      }
    };
    if (holders === undefined) {
      const first = readTable();
      if (first === undefined) return;
      holders = locate(p, first, bridges);
    }
    for (const b of bridges) {
      if (reported.has(b.port)) continue;
      const h = holders.get(b.port) ?? 'none';
      let alive: boolean;
      if (h === 'none') alive = false;
      else if (h === 'unseen') {
        const now = readTable();
        if (now === undefined) return;
        const inode = loopbackListeners(now).get(b.port);
        const first = seen.get(b.port) ?? inode;
        if (first !== undefined) seen.set(b.port, first);
        alive = inode !== undefined && inode === first;
      } else {
        try {
          alive = readlinkSync(`/proc/${h.pid}/fd/${h.fd}`) === h.socket;
        } catch {
          alive = false;
        }
        if (!alive && isZombie(p)) return; // the whole sandbox is ending, not this bridge
      }
      if (!alive) {
        reported.add(b.port);
        onGone(b);
      }
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
