// A session's processes, found from outside by their pid namespace: the
// sandbox's init and everything it started, background, setsid and
// double-forked ones included. Stopping means none of them is left.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The pid namespace id (`pid:[4026532xyz]`) of a process, or undefined when it is gone. */
export function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Direct children of a process: the kernel's per-task children lists where it has them, else a scan of every process. */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone
  }
  const out: number[] = [];
  for (const task of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1').trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(`/proc/self/task/${process.pid}/children`)) return scanChildren(pid);
      continue; // that thread is gone
    }
    if (text) out.push(...text.split(' ').map(Number));
  }
  return out;
}

function scanChildren(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Every live process in the namespace `ns`. */
export function membersOf(ns: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (pidNamespace(Number(entry)) === ns && !isZombie(Number(entry))) out.push(Number(entry));
  }
  return out;
}

/** True for a process that has ended (a zombie) or is gone. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `probe()` returns true. */
export async function waitFor(probe: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (probe()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

export interface StopResult {
  readonly survivors: number[];
  readonly signalled: number;
  readonly killed: boolean;
}

/**
 * SIGTERM to every member, SIGKILL after `graceMs` to the namespace's init
 * (which takes the whole namespace with it) and any stragglers, then verify
 * that no member is left.
 */
export async function stopNamespace(ns: string, init: number | undefined, graceMs: number): Promise<StopResult> {
  const first = membersOf(ns);
  // Nothing left (the usual end: the command exited and its init with it). A namespace
  // whose init is gone takes no new members, so one scan of /proc verifies it.
  if (first.length === 0) return { survivors: [], signalled: 0, killed: false };
  signalAll(first, 'SIGTERM');
  const calm = await waitFor(() => membersOf(ns).length === 0, graceMs, 20);
  let killed = false;
  if (!calm) {
    killed = true;
    if (init !== undefined && pidNamespace(init) === ns) signalAll([init], 'SIGKILL');
    signalAll(membersOf(ns), 'SIGKILL');
  }
  await waitFor(() => membersOf(ns).length === 0, 2000, 10);
  return { survivors: membersOf(ns), signalled: first.length, killed };
}

/**
 * The sandbox's init, found from the process that started it (helper, exec'd
 * into the exec logger, -> bwrap -> init): the first descendant in another pid
 * namespace than ours. Waits (bounded) for it to appear, or for `root` to be gone.
 */
export async function findSandboxInit(root: number, timeoutMs = 3000): Promise<{ ns: string; init: number } | undefined> {
  const own = pidNamespace(process.pid);
  let found: { ns: string; init: number } | undefined;
  await waitFor(() => {
    if (isZombie(root)) return true; // the whole chain is gone (or ending): nothing to find
    const queue = [root];
    while (queue.length > 0) {
      const p = queue.shift() as number;
      const ns = pidNamespace(p);
      if (ns !== undefined && ns !== own) {
        found = { ns, init: p };
        return true;
      }
      queue.push(...childrenOf(p));
    }
    return false;
  }, timeoutMs, 5);
  return found;
}
