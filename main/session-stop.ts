// Stopping sessions that run in other processes (`personae run` in another
// terminal): through each session's control socket, which answers once the
// engine has verified that nothing survives. Returns outcomes; prints nothing.
import path from 'node:path';
import { runDir } from '../personas/paths.js';
import type { AuditStore, SessionRecord } from '../sandbox/audit/store.js';
import { sendControl } from '../sandbox/session-control.js';

export interface StopOutcome {
  readonly session: string;
  readonly verified: boolean;
  readonly survivors: number;
  readonly error?: string;
}

/** Is a process alive (ours or not)? */
export function isAlive(pid: number | null | undefined): boolean {
  if (pid === null || pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where a session's supervisor listens for stop and status requests. */
export function controlSocketPath(home: string, sessionId: string): string {
  return path.join(runDir(home), sessionId.replace(/-/g, '').slice(0, 12), 'control.sock');
}

/** Stops a session of another process; kills its supervisor when the socket does not answer (its sandbox dies with it). */
export async function stopForeignSession(home: string, s: SessionRecord, reason: 'user' | 'suspend'): Promise<StopOutcome> {
  try {
    const r = await sendControl(controlSocketPath(home, s.id), { op: 'stop', reason });
    if (r.ok === true) return { session: s.id, verified: true, survivors: 0 };
    const survivors = typeof r.survivors === 'number' ? r.survivors : 0;
    return { session: s.id, verified: false, survivors, error: typeof r.error === 'string' ? r.error : `${survivors} processes survive` };
  } catch (e) {
    if (!isAlive(s.supervisor_pid)) return { session: s.id, verified: true, survivors: 0 };
    try {
      process.kill(s.supervisor_pid as number, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    // die-with-parent takes the sandbox down with its supervisor; check its root is gone.
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && (isAlive(s.supervisor_pid) || isAlive(s.sandbox_pid))) await new Promise((r) => setTimeout(r, 20));
    const left = isAlive(s.sandbox_pid);
    return { session: s.id, verified: !left, survivors: left ? 1 : 0, error: `control socket unreachable (${(e as Error).message}); killed its supervisor` };
  }
}

/**
 * Sessions whose supervisor is gone without having ended them (killed,
 * crashed, the machine went down) are ended in the log: a `session.end`
 * event saying so, at the time of their last event. Without it they would
 * show as running for good (the morning review counted them as still
 * running). Returns how many were ended.
 */
export function endOrphanedSessions(store: AuditStore, now = new Date()): number {
  let ended = 0;
  for (const s of store.listSessions({ running: true, limit: 10_000 })) {
    if (s.supervisor_pid === process.pid || isAlive(s.supervisor_pid)) continue;
    const last = store.query({ session: s.id, order: 'desc', limit: 1 })[0]?.ts ?? s.started_at;
    store.append(
      { session: s.id, persona: s.persona, agent: s.agent, on_behalf_of: s.on_behalf_of },
      {
        kind: 'session.end',
        target: s.id,
        reason: 'failure',
        ts: last,
        detail: { exit_code: null, supervisor: 'gone', note: `its supervisor (pid ${s.supervisor_pid ?? '?'}) ended without ending the session; found ${now.toISOString()}` },
      },
    );
    if (store.endSession(s.id, { exit_code: null, end_reason: 'failure', ended_at: last })) ended++;
  }
  return ended;
}
