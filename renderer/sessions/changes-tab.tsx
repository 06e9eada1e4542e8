// A session's Changes tab: what it changed against its base (a file tree,
// the diff unified or side by side), the commits with their persona and the
// human they were made for, and Keep / Discard, each asking for a
// confirmation first. Keep does what `personae apply` does, Discard what
// `personae discard` does; a refusal (a conflict, a dirty checkout) is shown
// as the backend says it, and nothing is changed.
import { useCallback, useEffect, useState } from 'react';
import {
  ApplyResultSchema, ChangesSchema, DiscardResultSchema, routes, type ApplyResult, type Changes, type ChangedFile, type SessionInfo,
} from '../../main/api/contract.js';
import { apiGet, apiSend } from '../api/client.js';
import { isRunning } from '../api/live-state.js';
import { dateTime } from '../ui/format.js';
import { DiffView, fileAnchor } from './diff-view.js';
import { fileTree, type TreeNode } from './file-tree.js';
import './changes.css';

function Tree({ nodes, depth = 0 }: { nodes: ReadonlyArray<TreeNode<ChangedFile>>; depth?: number }) {
  return (
    <ul className="file-tree" style={{ paddingLeft: depth === 0 ? 0 : 12 }}>
      {nodes.map((n) =>
        n.kind === 'dir' ? (
          <li key={`d:${n.name}`}>
            <span className="tree-dir">{n.name}/</span>
            <Tree nodes={n.children} depth={depth + 1} />
          </li>
        ) : (
          <li key={n.path}>
            <a href={`#${fileAnchor(n.path)}`} className="tree-file" onClick={(e) => {
              e.preventDefault();
              document.getElementById(fileAnchor(n.path))?.scrollIntoView({ block: 'start' });
            }}>
              <span className={`file-status s-${n.item.status}`}>{n.item.status}</span> {n.name}
              {n.item.uncommitted && <span className="tree-open" title="uncommitted"> ●</span>}
            </a>
          </li>
        ),
      )}
    </ul>
  );
}

function Commits({ c }: { c: Changes }) {
  if (c.commits.length === 0) return <p className="muted small">No commits on the branch{c.files.length > 0 ? '; every change is uncommitted' : ''}.</p>;
  return (
    <ul className="commits plain">
      {c.commits.map((k) => (
        <li key={k.sha} data-sha={k.sha}>
          <code>{k.sha.slice(0, 10)}</code> <strong>{k.subject}</strong>{' '}
          <span className="muted small">by {k.author} &lt;{k.email}&gt;{k.on_behalf_of ? ` on behalf of ${k.on_behalf_of}` : ''} · {dateTime(k.date)}</span>
        </li>
      ))}
    </ul>
  );
}

type Confirming = 'keep' | 'discard' | undefined;

function Decide({ session, c, onDone }: { session: SessionInfo; c: Changes; onDone: (message: string) => void }) {
  const [confirming, setConfirming] = useState<Confirming>();
  const [squash, setSquash] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const w = c.worktree;
  if (c.source !== 'worktree' || w === null || w.state !== 'pending') return null;
  const running = isRunning(session);
  const keep = (): void => {
    setBusy(true);
    setError(undefined);
    apiSend('POST', routes.sessionApply(session.id), { squash }, ApplyResultSchema)
      .then((r: ApplyResult) => {
        const how = r.mode === 'nothing' ? 'nothing to bring in' : `${r.mode} into ${r.into}, ${r.files} file${r.files === 1 ? '' : 's'} (commit ${r.commit.slice(0, 10)})`;
        onDone(`Kept: ${how}. The worktree and branch ${w.branch} are removed.`);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => {
        setBusy(false);
        setConfirming(undefined);
      });
  };
  const discard = (): void => {
    setBusy(true);
    setError(undefined);
    apiSend('POST', routes.sessionDiscard(session.id), {}, DiscardResultSchema)
      .then((r) => onDone(`Discarded: the worktree and branch ${r.branch} are removed.`))
      .catch((e: Error) => setError(e.message))
      .finally(() => {
        setBusy(false);
        setConfirming(undefined);
      });
  };
  return (
    <div className="decide">
      {confirming === undefined && (
        <div className="actions">
          <button type="button" className="primary" disabled={running || busy} onClick={() => setConfirming('keep')} title={running ? 'Stop the session first' : undefined}>Keep…</button>
          <button type="button" className="danger" disabled={running || busy} onClick={() => setConfirming('discard')}>Discard…</button>
          {running && <span className="muted small">The session is still running: stop it to keep or discard its changes.</span>}
        </div>
      )}
      {confirming === 'keep' && (
        <div className="confirm" role="dialog" aria-label="Confirm keep">
          <p>Bring {c.files.length} changed file{c.files.length === 1 ? '' : 's'} into <code>{w.repo}</code>? {c.files.some((f) => f.uncommitted) ? 'Uncommitted files are committed for the persona first. ' : ''}A conflict stops it with nothing changed.</p>
          <label className="inline"><input type="checkbox" checked={squash} onChange={(e) => setSquash(e.target.checked)} /> as one squashed commit</label>
          <div className="actions">
            <button type="button" className="primary" disabled={busy} onClick={keep}>{busy ? 'Keeping…' : 'Confirm keep'}</button>
            <button type="button" disabled={busy} onClick={() => setConfirming(undefined)}>Cancel</button>
          </div>
        </div>
      )}
      {confirming === 'discard' && (
        <div className="confirm danger-zone" role="dialog" aria-label="Confirm discard">
          <p>Throw away this session&apos;s changes? The worktree <code>{w.path}</code> and the branch <code>{w.branch}</code> are removed; this cannot be undone.</p>
          <div className="actions">
            <button type="button" className="danger" disabled={busy} onClick={discard}>{busy ? 'Discarding…' : 'Confirm discard'}</button>
            <button type="button" disabled={busy} onClick={() => setConfirming(undefined)}>Cancel</button>
          </div>
        </div>
      )}
      {error && <div className="refusal" role="alert"><strong>Not done</strong><p>{error}</p></div>}
    </div>
  );
}

export function ChangesTab({ session }: { session: SessionInfo }) {
  const [changes, setChanges] = useState<Changes>();
  const [error, setError] = useState<string>();
  const [view, setView] = useState<'split' | 'unified'>('split');
  const [done, setDone] = useState<string>();
  const running = isRunning(session);
  const load = useCallback((): void => {
    apiGet(routes.sessionChanges(session.id), ChangesSchema)
      .then((c) => {
        setChanges(c);
        setError(undefined);
      })
      .catch((e: Error) => setError(e.message));
  }, [session.id]);
  // Reload when the session ends, or its worktree is kept or discarded (here or elsewhere); every few seconds while it runs.
  useEffect(load, [load, session.state, session.worktree?.state]);
  useEffect(() => {
    if (!running) return undefined;
    const t = window.setInterval(load, 3000);
    return () => window.clearInterval(t);
  }, [running, load]);
  if (error) return <p className="error-text">{error}</p>;
  if (changes === undefined) return <p className="empty">Reading the changes…</p>;
  const w = changes.worktree;
  const open = changes.files.filter((f) => f.uncommitted).length;
  return (
    <div className="changes" data-testid="changes">
      <header className="changes-head">
        <div>
          {w ? (
            <span>Branch <code>{w.branch}</code> from <code>{w.base.slice(0, 10)}</code> of <code>{w.repo}</code>{w.state !== 'pending' ? ` · ${w.state === 'applied' ? 'kept' : 'discarded'}` : ''}</span>
          ) : (
            <span>Ran in its workspace directly: the diffs the engine recorded.</span>
          )}
          <div className="muted small" data-testid="changes-summary">
            {changes.commits.length} commit{changes.commits.length === 1 ? '' : 's'} · {changes.files.length} file{changes.files.length === 1 ? '' : 's'} changed{open > 0 ? ` · ${open} uncommitted` : ''}{running ? ' · still running' : ''}
          </div>
        </div>
        <div className="view-toggle" role="group" aria-label="Diff view">
          <button type="button" className={view === 'split' ? 'active' : ''} onClick={() => setView('split')}>Side by side</button>
          <button type="button" className={view === 'unified' ? 'active' : ''} onClick={() => setView('unified')}>Unified</button>
        </div>
      </header>
      {done && <p className="done" role="status">{done}</p>}
      <Decide session={session} c={changes} onDone={(m) => { setDone(m); load(); }} />
      <Commits c={changes} />
      <div className="changes-body">
        <nav className="changes-tree" aria-label="Changed files"><Tree nodes={fileTree(changes.files, (f) => f.path)} /></nav>
        <div className="changes-diff">
          <DiffView patch={changes.patch} files={changes.files} view={view} />
          {changes.truncated && <p className="warn small">The diff is larger than the app reads at once; <code>personae diff {session.id.slice(0, 8)}</code> prints all of it.</p>}
        </div>
      </div>
    </div>
  );
}
