// `personae ps`, `personae stop`, `personae persona suspend|resume`.
import { resumePersona, suspendPersona } from '../../personas/suspended.js';
import type { SessionRecord } from '../../sandbox/audit/store.js';
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

export async function psCommand(opts: { json?: boolean }): Promise<number> {
  const sessions = await runningSessions();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(sessions)}\n`);
    return 0;
  }
  const rows = [['SESSION', 'PERSONA', 'AGENT', 'PID', 'AGE', 'ON BEHALF OF', 'COMMAND']];
  for (const s of sessions) {
    rows.push([s.id, s.persona, s.agent.version ? `${s.agent.kind} ${s.agent.version}` : s.agent.kind, String(s.sandbox_pid ?? ''), age(s.started_at), s.on_behalf_of, s.command.join(' ').slice(0, 60)]);
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
