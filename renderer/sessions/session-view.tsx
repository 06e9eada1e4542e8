// One session: its terminal and its live audit feed side by side.
import { useMemo } from 'react';
import { useLive } from '../api/live-state.js';
import { LiveFeed } from '../feed/live-feed.js';
import { dateTime, stateLabel } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';
import { StopButton } from './stop-button.js';
import { SuggestPersonaPanel } from './suggest-persona-panel.js';
import { TerminalView } from './terminal-view.js';

export function SessionView({ id }: { id: string }) {
  const live = useLive();
  const s = live.sessions.get(id);
  const fixed = useMemo(() => ({ session: id }), [id]);
  if (s === undefined) return <p className="empty">{live.connection === 'open' ? 'Unknown session.' : 'Connecting…'}</p>;
  return (
    <div className="session-view" data-session={id}>
      <header className="session-head">
        <PersonaChip name={s.persona} />
        <code title={s.id}>{s.id}</code>
        <span className={`state state-${s.state}`} data-testid="session-state">{stateLabel(s)}</span>
        <StopButton session={s} />
        <span className="muted small">
          {s.agent.kind}{s.agent.version ? ` ${s.agent.version}` : ''} · on behalf of {s.on_behalf_of} · {s.workspace} · started {dateTime(s.started_at)}
        </span>
      </header>
      <SuggestPersonaPanel sessionId={id} ended={s.state !== 'running'} />
      <div className="session-body">
        <div className="pane">
          {s.terminal ? (
            <TerminalView sessionId={id} />
          ) : (
            <p className="empty">This session runs in another process (<code>personae run</code>); its terminal is there. Its events appear here live.</p>
          )}
        </div>
        <div className="pane">
          <LiveFeed fixed={fixed} label={`Events of session ${id}`} />
        </div>
      </div>
    </div>
  );
}
