// Pending `ask` calls as cards with Allow / Deny, and a desktop notification
// when a new one arrives.
import { useEffect, useState } from 'react';
import { ApprovalAnsweredSchema, routes, type PendingApproval } from '../../main/api/contract.js';
import { apiSend } from '../api/client.js';
import { liveState, onNewApproval, useLive } from '../api/live-state.js';
import { clockTime } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';

function notify(a: PendingApproval): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  try {
    // Which session waits: the persona in the title, its workspace in the body.
    const workspace = liveState().sessions.get(a.session)?.workspace;
    const what = a.target ?? a.input_summary;
    const n = new Notification(`${a.persona} asks: ${a.tool}`, { body: workspace ? `in ${workspace}: ${what}` : what, tag: a.id });
    n.onclick = () => {
      window.focus();
      window.location.hash = `#/sessions/${a.session}`;
    };
  } catch {
    // notifications unavailable here
  }
}

function Card({ a }: { a: PendingApproval }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const answer = (decision: 'allow' | 'deny'): void => {
    setBusy(true);
    apiSend('POST', routes.approval(a.id), { decision }, ApprovalAnsweredSchema)
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };
  const left = Math.max(0, Math.round((Date.parse(a.expires) - Date.now()) / 1000));
  return (
    <article className="approval card" data-approval={a.id} aria-label={`Approval for ${a.tool}`}>
      <header>
        <PersonaChip name={a.persona} />
        <strong>{a.tool}</strong>
        <code className="target">{a.target ?? ''}</code>
      </header>
      {a.input_summary !== a.target && <pre className="summary">{a.input_summary}</pre>}
      <p className="small">Waiting because: {a.reason}</p>
      <p className="muted small">
        asked {clockTime(a.created)} · session <a href={`#/sessions/${a.session}`}>{a.session.slice(0, 8)}</a> · denied automatically in {left}s
      </p>
      <div className="actions">
        <button type="button" className="primary" disabled={busy} onClick={() => answer('allow')}>Allow</button>
        <button type="button" className="danger" disabled={busy} onClick={() => answer('deny')}>Deny</button>
        {error && <span className="error-text">{error}</span>}
      </div>
    </article>
  );
}

export function ApprovalCards() {
  const live = useLive();
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'denied' : Notification.permission);
  useEffect(() => onNewApproval(notify), []);
  if (live.approvals.length === 0) return null;
  return (
    <section className="approvals" aria-label="Pending approvals">
      <h2>
        Waiting for you ({live.approvals.length})
        {permission === 'default' && (
          <button type="button" className="link" onClick={() => void Notification.requestPermission().then(setPermission)}>
            enable desktop notifications
          </button>
        )}
      </h2>
      {live.approvals.map((a) => <Card key={a.id} a={a} />)}
    </section>
  );
}
