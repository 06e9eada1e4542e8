// The sessions list as a fleet view, newest first: this backend's sessions
// and other processes' (`personae run`). Per session the persona, what it is
// doing (a session waiting for a human stands out), its worktree branch,
// files changed, denials and age; a click opens its page.
import { useEffect, useState } from 'react';
import type { SessionInfo } from '../../main/api/contract.js';
import { sortedSessions, useLive } from '../api/live-state.js';
import { shortId } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';
import { age, fleetLabel, fleetState, worktreeLabel, type FleetState } from './fleet-model.js';
import { StopButton } from './stop-button.js';
import './fleet.css';

function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}

/** Where a session works: its repository for a worktree session, else its workspace. */
function where(s: SessionInfo): string {
  return s.worktree?.repo ?? s.workspace ?? '';
}

function SessionRow({ s, state, now }: { s: SessionInfo; state: FleetState; now: number }) {
  const open = (): void => {
    window.location.hash = `#/sessions/${s.id}`;
  };
  const pending = s.worktree?.state === 'pending' && state !== 'running' && state !== 'waiting';
  return (
    <tr className={`session-row fleet-${state}`} data-session={s.id} onClick={open}>
      <td>
        <a href={`#/sessions/${s.id}`} className="session-link" onClick={(e) => e.stopPropagation()}>
          <PersonaChip name={s.persona} /> <code>{shortId(s.id)}</code>
        </a>
        <div className="muted small fleet-command" title={`${s.workspace ?? ''}\n${s.command.join(' ')}`}>{where(s)} · {s.command.join(' ')}</div>
      </td>
      <td><span className={`state fleet-state-${state}`} data-testid="session-state">{fleetLabel(state, s)}</span></td>
      <td className="fleet-branch">
        <code title={s.worktree?.path}>{worktreeLabel(s)}</code>
        {pending && <a className="badge warn" href={`#/sessions/${s.id}/changes`} onClick={(e) => e.stopPropagation()}>review</a>}
      </td>
      <td className="num" data-testid="files-changed">{s.files_changed ?? '—'}</td>
      <td className={`num${s.denials > 0 ? ' fleet-denials' : ''}`} data-testid="denials">{s.denials}</td>
      <td className="num muted" title={s.started_at}>{age(s.started_at, now)}</td>
      <td onClick={(e) => e.stopPropagation()}><StopButton session={s} /></td>
    </tr>
  );
}

export function SessionList({ limit = 50 }: { limit?: number }) {
  const live = useLive();
  const now = useNow(5000);
  const sessions = sortedSessions(live).slice(0, limit);
  if (sessions.length === 0) return <p className="empty">No sessions yet. <a href="#/launch">Launch one.</a></p>;
  const states = sessions.map((s) => [s, fleetState(s, live.approvals)] as const);
  const waiting = states.filter(([, st]) => st === 'waiting').length;
  return (
    <div className="fleet">
      {waiting > 0 && <p className="fleet-waiting-note" role="status">{waiting} session{waiting === 1 ? '' : 's'} waiting for you</p>}
      <table className="fleet-table">
        <thead>
          <tr><th>session</th><th>state</th><th>branch</th><th className="num">files</th><th className="num">denials</th><th className="num">age</th><th /></tr>
        </thead>
        <tbody>
          {states.map(([s, st]) => <SessionRow key={s.id} s={s} state={st} now={now} />)}
        </tbody>
      </table>
    </div>
  );
}
