// `personae ps`, `personae stop`, `personae persona suspend|resume`.
import { resumePersona, suspendPersona } from '../../personas/suspended.js';
import type { AuditStore, SessionRecord } from '../../sandbox/audit/store.js';
import { sessionChanges } from '../worktrees.js';
import { controlSocketPath, endOrphanedSessions, isAlive, stopForeignSession } from '../session-stop.js';
import { home, openStore } from './context.js';
import { fail, info } from './output.js';
import { alignedTable } from './table.js';

export function controlSocket(id: string): string {
  return controlSocketPath(home(), id);
}

export async function runningSessions(): Promise<SessionRecord[]> {
  const store = await openStore();
  try {
    endOrphanedSessions(store);
    return store.listSessions({ running: true }).filter((s) => isAlive(s.supervisor_pid));
  } finally {
    store.close();
  }
}

function age(startedAt: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function stateOf(s: SessionRecord, running: boolean): string {
  if (running) return 'running';
  if (s.end_reason === 'stopped' || s.end_reason === 'suspended' || s.end_reason === 'limit') return s.end_reason;
  if (s.end_reason === 'failure') return 'failed';
  return s.exit_code === null ? 'ended' : `ended (exit ${s.exit_code})`;
}

/** Files changed: counted by git for a worktree session (at its end, or now for one killed mid-way), else the files it wrote. */
async function filesChanged(store: AuditStore, s: SessionRecord, running: boolean, written: number): Promise<number | null> {
  if (s.worktree === null || running) return written;
  if (s.files_changed !== null) return s.files_changed;
  try {
    const n = (await sessionChanges(home(), s)).files.length;
    store.updateWorktree(s.id, { files_changed: n });
    return n;
  } catch {
    return null;
  }
}

/** Running sessions, and worktree sessions whose change waits for apply or discard. */
export async function psCommand(opts: { json?: boolean }): Promise<number> {
  const store = await openStore();
  const listed: Array<SessionRecord & { state: string; files_changed: number | null }> = [];
  try {
    endOrphanedSessions(store);
    const running = store.listSessions({ running: true }).filter((s) => isAlive(s.supervisor_pid));
    const ids = new Set(running.map((s) => s.id));
    const pending = store.listSessions({ worktreeState: 'pending', limit: 1000 }).filter((s) => !ids.has(s.id));
    const counts = store.sessionCounts(running.map((s) => s.id));
    for (const s of [...running, ...pending]) {
      const live = ids.has(s.id);
      listed.push({ ...s, state: stateOf(s, live), files_changed: await filesChanged(store, s, live, counts.get(s.id)?.files ?? 0) });
    }
  } finally {
    store.close();
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(listed)}\n`);
    return 0;
  }
  const rows = [['SESSION', 'PERSONA', 'STATE', 'AGE', 'BRANCH', 'FILES', 'ON BEHALF OF', 'COMMAND']];
  for (const s of listed) {
    rows.push([
      s.id, s.persona, s.state, age(s.started_at), s.worktree?.branch ?? '-', s.files_changed === null ? '?' : String(s.files_changed),
      s.on_behalf_of, s.command.join(' ').slice(0, 50),
    ]);
  }
  process.stdout.write(`${alignedTable(rows)}\n`);
  return 0;
}

/** Stops sessions through their control sockets; returns how many could not be verified stopped. */
export async function stopSessions(targets: readonly SessionRecord[], reason: 'user' | 'suspend'): Promise<number> {
  const outcomes = await Promise.all(targets.map((s) => stopForeignSession(home(), s, reason)));
  for (const o of outcomes) {
    const persona = targets.find((t) => t.id === o.session)?.persona ?? '?';
    if (o.verified) info(`stopped ${o.session} (persona ${persona}); verified: no process survives${o.error ? ` (${o.error})` : ''}`);
    else info(`session ${o.session}: not verified stopped: ${o.error ?? `${o.survivors} processes survive`}`);
  }
  return outcomes.filter((o) => !o.verified).length;
}

export async function stopCommand(session: string | undefined, opts: { persona?: string; all?: boolean }): Promise<number> {
  const chosen = [session !== undefined, opts.persona !== undefined, opts.all === true].filter(Boolean).length;
  if (chosen !== 1) return fail('say which sessions: personae stop SESSION | --persona NAME | --all', 2);
  const running = await runningSessions();
  let targets: SessionRecord[];
  if (opts.all) targets = running;
  else if (opts.persona) targets = running.filter((s) => s.persona === opts.persona);
  else {
    targets = running.filter((s) => s.id.startsWith(session ?? ''));
    if (targets.length > 1) return fail(`session prefix "${session}" is ambiguous (${targets.length} sessions)`, 2);
    if (targets.length === 0) return fail(`no running session "${session}"`, 1);
  }
  if (targets.length === 0) {
    info('no running sessions to stop');
    return 0;
  }
  return (await stopSessions(targets, 'user')) === 0 ? 0 : 1;
}

export async function personaSuspend(name: string): Promise<number> {
  suspendPersona(home(), name);
  info(`persona ${name} suspended: new runs are refused until: personae persona resume ${name}`);
  const targets = (await runningSessions()).filter((s) => s.persona === name);
  return (await stopSessions(targets, 'suspend')) === 0 ? 0 : 1;
}

export function personaResume(name: string): number {
  const was = resumePersona(home(), name);
  info(was ? `persona ${name} resumed` : `persona ${name} was not suspended`);
  return 0;
}
