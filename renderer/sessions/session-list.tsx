// Sessions, newest first: this backend's and other processes' (`personae run`).
import type { SessionInfo } from '../../main/api/contract.js';
import { sortedSessions, useLive } from '../api/live-state.js';
import { dateTime, shortId, stateLabel } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';
import { StopButton } from './stop-button.js';

function SessionRow({ s }: { s: SessionInfo }) {
  return (
    <li className={`session-row state-${s.state}`} data-session={s.id}>
      <a href={`#/sessions/${s.id}`} className="session-link">
        <PersonaChip name={s.persona} />
        <code>{shortId(s.id)}</code>
        <span className="muted">{s.command.join(' ').slice(0, 60)}</span>
      </a>
      <span className="muted small">{dateTime(s.started_at)}</span>
      <span className={`state state-${s.state}`} data-testid="session-state">{stateLabel(s)}</span>
      <StopButton session={s} />
    </li>
  );
}

export function SessionList({ limit = 50 }: { limit?: number }) {
  const live = useLive();
  const sessions = sortedSessions(live).slice(0, limit);
  if (sessions.length === 0) return <p className="empty">No sessions yet. <a href="#/launch">Launch one.</a></p>;
  return <ul className="session-list">{sessions.map((s) => <SessionRow key={s.id} s={s} />)}</ul>;
}
