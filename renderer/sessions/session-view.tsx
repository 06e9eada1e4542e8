// One session: its terminal and its live audit feed side by side, and a
// Changes tab (what it changed, Keep / Discard for a worktree session).
import { lazy, Suspense, useMemo } from 'react';
import { useLive } from '../api/live-state.js';
import { LiveFeed } from '../feed/live-feed.js';
import { dateTime, stateLabel } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';
import { StopButton } from './stop-button.js';
import { TerminalView } from './terminal-view.js';
import { SuggestPersonaPanel } from './suggest-persona-panel.js';

// The diff viewer and its grammars load only when the tab is opened.
const ChangesTab = lazy(() => import('./changes-tab.js').then((m) => ({ default: m.ChangesTab })));

export function SessionView({ id, tab }: { id: string; tab?: string }) {
  const live = useLive();
  const s = live.sessions.get(id);
  const fixed = useMemo(() => ({ session: id }), [id]);
  if (s === undefined) return <p className="empty">{live.connection === 'open' ? 'Unknown session.' : 'Connecting…'}</p>;
  const changes = tab === 'changes';
  const pending = s.worktree?.state === 'pending';
  return (
    <div className="session-view" data-session={id}>
      <header className="session-head">
        <PersonaChip name={s.persona} />
        <code title={s.id}>{s.id}</code>
        <span className={`state state-${s.state}`} data-testid="session-state">{stateLabel(s)}</span>
        <StopButton session={s} />
        <span className="muted small">
          {s.agent.kind}{s.agent.version ? ` ${s.agent.version}` : ''} · on behalf of {s.on_behalf_of} · {s.workspace} · started {dateTime(s.started_at)}
          {s.worktree ? ` · branch ${s.worktree.branch}` : ''}
        </span>
      </header>
      <SuggestPersonaPanel sessionId={id} ended={s.state !== 'running'} />
      <nav className="session-tabs" aria-label="Session views">
        <a href={`#/sessions/${id}`} className={changes ? '' : 'active'}>Terminal &amp; events</a>
        <a href={`#/sessions/${id}/changes`} className={changes ? 'active' : ''}>
          Changes{s.files_changed !== null ? ` (${s.files_changed})` : ''}{pending && s.state !== 'running' ? <span className="badge warn">to review</span> : null}
        </a>
      </nav>
      {changes ? (
        <Suspense fallback={<p className="empty">Loading…</p>}>
          <ChangesTab session={s} />
        </Suspense>
      ) : (
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
      )}
    </div>
  );
}
