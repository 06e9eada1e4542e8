// Launch an agent as a persona. Refusals (expired, suspended, missing
// secret, missing bwrap, bad workspace) come back from the backend and are
// shown as they are.
import { useEffect, useState, type FormEvent } from 'react';
import {
  DefaultsSchema, PersonaListSchema, routes, SessionInfoSchema, WorkspaceInfoSchema, type PersonaSummary, type WorkspaceInfo,
} from '../../main/api/contract.js';
import { ApiError, apiGet, apiSend } from '../api/client.js';
import { upsertSession } from '../api/live-state.js';

const REFUSAL_TITLES: Record<string, string> = {
  expired: 'Persona expired',
  suspended: 'Persona suspended',
  'missing-secret': 'Missing secret',
  'missing-tool': 'Sandbox tools missing',
  workspace: 'Workspace problem',
  'not-found': 'Unknown persona',
  invalid: 'Invalid persona file',
  worktree: 'Worktree problem',
};

/** What the form knows about the workspace (is it a git repository?), asked again as it is typed. */
function useWorkspaceInfo(workspace: string): WorkspaceInfo | undefined {
  const [info, setInfo] = useState<WorkspaceInfo>();
  useEffect(() => {
    if (workspace === '') return undefined;
    const t = window.setTimeout(() => {
      apiGet(routes.workspace, WorkspaceInfoSchema, { path: workspace }).then(setInfo).catch(() => setInfo(undefined));
    }, 250);
    return () => window.clearTimeout(t);
  }, [workspace]);
  return info?.path === workspace ? info : undefined;
}

export function LaunchForm({ initialPersona }: { initialPersona?: string }) {
  const [personas, setPersonas] = useState<PersonaSummary[]>([]);
  const [persona, setPersona] = useState(initialPersona ?? '');
  const [workspace, setWorkspace] = useState('');
  const [workspaceNote, setWorkspaceNote] = useState('');
  const [onBehalfOf, setOnBehalfOf] = useState('');
  const [prompt, setPrompt] = useState('');
  const [refusal, setRefusal] = useState<{ title: string; message: string }>();
  const [busy, setBusy] = useState(false);
  // undefined: follow the workspace (on for a git repository); else what the user chose.
  const [worktreeChoice, setWorktreeChoice] = useState<boolean>();
  const [base, setBase] = useState('');
  const repo = useWorkspaceInfo(workspace);
  const worktree = worktreeChoice ?? repo?.git === true;

  useEffect(() => {
    apiGet(routes.personas, PersonaListSchema)
      .then((l) => {
        setPersonas(l.personas);
        setPersona((p) => p || l.personas.find((x) => !x.suspended && !x.expired)?.name || l.personas[0]?.name || '');
      })
      .catch((e: Error) => setRefusal({ title: 'Cannot list personas', message: e.message }));
    apiGet(routes.defaults, DefaultsSchema)
      .then((d) => {
        setWorkspace((w) => w || d.workspace);
        setWorkspaceNote(`Default: ${d.workspace_note}.`);
        setOnBehalfOf((o) => o || d.on_behalf_of);
      })
      .catch(() => undefined);
  }, []);

  const chosen = personas.find((p) => p.name === persona);
  const isShell = chosen?.agent === 'shell';

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setRefusal(undefined);
    // The command starts once the session's terminal view gave the PTY its size.
    const body = { persona, workspace, on_behalf_of: onBehalfOf || undefined, prompt: prompt || undefined, start_on_attach: true, worktree, base: worktree && base.trim() ? base.trim() : undefined };
    apiSend('POST', routes.sessions, body, SessionInfoSchema)
      .then((s) => {
        upsertSession(s);
        window.location.hash = `#/sessions/${s.id}`;
      })
      .catch((err: Error) => {
        const code = err instanceof ApiError ? err.code : undefined;
        setRefusal({ title: (code && REFUSAL_TITLES[code]) || 'Launch refused', message: err.message });
      })
      .finally(() => setBusy(false));
  };

  return (
    <form className="card launch" onSubmit={submit} aria-label="Launch">
      <h2>Launch an agent</h2>
      <label>
        Persona
        <select name="persona" value={persona} onChange={(e) => setPersona(e.target.value)} required>
          {personas.map((p) => (
            <option key={p.name} value={p.name}>
              {p.display_name} ({p.name}, {p.agent}){p.suspended ? ' — suspended' : p.expired ? ' — expired' : ''}
            </option>
          ))}
        </select>
      </label>
      {chosen && <p className="muted small">{chosen.purpose} Owner: {chosen.owner}. Agent: {chosen.agent}.</p>}
      <label>
        Workspace
        <input name="workspace" value={workspace} onChange={(e) => {
          setWorkspace(e.target.value);
          setWorkspaceNote('');
        }} required spellCheck={false} aria-describedby="workspace-note" />
        {workspaceNote && <span className="hint" id="workspace-note" data-testid="workspace-note">{workspaceNote}</span>}
      </label>
      <label className="inline">
        <input type="checkbox" name="worktree" checked={worktree} onChange={(e) => setWorktreeChoice(e.target.checked)} />
        Run in a new git worktree (its changes wait for Keep or Discard)
      </label>
      {repo && (
        <p className="muted small" data-testid="workspace-info">
          {repo.git ? `git repository ${repo.toplevel ?? ''}${repo.branch ? `, branch ${repo.branch}` : ''}` : 'not a git repository: the session works in the folder itself'}
          {repo.git && repo.dirty > 0 ? ` · ${repo.dirty} file${repo.dirty === 1 ? '' : 's'} with uncommitted changes: commit or stash them before a worktree launch` : ''}
        </p>
      )}
      {worktree && (
        <label>
          Base (the commit the branch starts from; empty: HEAD)
          <input name="base" value={base} onChange={(e) => setBase(e.target.value)} spellCheck={false} placeholder="HEAD" />
        </label>
      )}
      <label>
        On behalf of
        <input name="on_behalf_of" value={onBehalfOf} onChange={(e) => setOnBehalfOf(e.target.value)} />
      </label>
      <label>
        {isShell ? 'Command (run with sh -c; empty: an interactive shell)' : 'Prompt (optional)'}
        <textarea name="prompt" rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} spellCheck={!isShell} />
      </label>
      {refusal && (
        <div className="refusal" role="alert">
          <strong>{refusal.title}</strong>
          <p>{refusal.message}</p>
        </div>
      )}
      <button type="submit" className="primary" disabled={busy || persona === ''}>{busy ? 'Launching…' : 'Launch'}</button>
    </form>
  );
}
