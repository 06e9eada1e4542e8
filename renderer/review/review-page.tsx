// The morning review: per persona, what happened in a time range (default:
// since yesterday evening), with JSONL and HTML exports.
import { useEffect, useState } from 'react';
import { ReviewSchema, routes, type Review, type ReviewPersona } from '../../main/api/contract.js';
import { apiGet, downloadUrl } from '../api/client.js';
import { clockTime, dateTime, duration, sessionOutcome } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';

function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function PersonaReview({ p }: { p: ReviewPersona }) {
  const stats: Array<[string, number | string]> = [
    ['sessions', p.sessions.length], ['duration', duration(p.duration_ms)], ['tool calls', p.tool_calls], ['commands', p.commands],
    ['denials', p.denials], ['drift flags', p.drift_flags.length], ['files changed', p.files.length], ['destinations', p.network.length],
    ['credential refusals', p.credential_refusals],
  ];
  return (
    <article className="card review-persona" data-persona={p.persona}>
      <header><PersonaChip name={p.persona} /> <strong>{p.display_name ?? p.persona}</strong></header>
      <div className="stats">{stats.map(([k, v]) => <div key={k} className={`stat${(k === 'denials' || k === 'credential refusals') && Number(v) > 0 ? ' bad' : ''}`}><b>{v}</b>{k}</div>)}</div>
      <details open={p.denied_groups.length > 0}>
        <summary>Denied ({p.denials})</summary>
        <ul className="plain denied-groups">
          {p.denied_groups.map((g) => (
            <li key={`${g.kind}\u0000${g.tool ?? ''}\u0000${g.target ?? ''}\u0000${g.reason ?? ''}`} className="denied-group" data-count={g.count}>
              {g.count > 1 && <span className="count" title={`${g.count} identical denials`}>{g.count}×</span>}{' '}
              <span className="muted">{g.count > 1 ? `${clockTime(g.first_ts)}–${clockTime(g.last_ts)}` : clockTime(g.first_ts)}</span> {g.kind} <code>{g.target}</code>{' '}
              <span className="d-denied">{g.reason}</span>
              {g.sessions > 1 && <span className="muted small"> · in {g.sessions} sessions</span>}
            </li>
          ))}
        </ul>
      </details>
      <details open={p.drift_flags.length > 0}>
        <summary>Drift ({p.drift_flags.length})</summary>
        <ul className="plain">{p.drift_flags.map((d) => <li key={`${d.ts}${d.session}`}>{clockTime(d.ts)} <code>{d.target}</code> {d.reason}</li>)}</ul>
      </details>
      <details>
        <summary>Sessions ({p.sessions.length})</summary>
        <ul className="plain">
          {p.sessions.map((s) => (
            <li key={s.id} className="review-session" data-session={s.id}>
              <a href={`#/sessions/${s.id}`}><code>{s.id.slice(0, 8)}</code></a> (<a href={`#/sessions/${s.id}/changes`} className="review-changes">changes</a>) <code className="review-command" title={s.command.join(' ')}>{s.command.join(' ')}</code>{' '}
              · {dateTime(s.started_at)} · {duration(s.duration_ms)} · {sessionOutcome(s)} · for {s.on_behalf_of}
            </li>
          ))}
        </ul>
      </details>
      <details>
        <summary>Files changed ({p.files.length})</summary>
        <ul className="plain">{p.files.map((f) => <li key={f.path}><code>{f.path}</code> <span className="muted">{f.writes} writes{f.deletes ? `, ${f.deletes} deletes` : ''}</span>{f.diff && <pre>{f.diff}</pre>}</li>)}</ul>
        {p.files.length > 0 && p.files.every((f) => f.diff === null) && <p className="muted small">Diffs are not recorded by the engine yet; paths and counts are.</p>}
      </details>
      <details>
        <summary>Network destinations ({p.network.length})</summary>
        <ul className="plain">{p.network.map((n) => <li key={n.target}><code>{n.target}</code> <span className={n.allowed > 0 ? 'd-allowed' : 'muted'}>{n.allowed} allowed</span> · <span className={n.denied > 0 ? 'd-denied' : 'muted'}>{n.denied} denied</span></li>)}</ul>
      </details>
      <details open={p.requests.some((r) => r.denied > 0)}>
        <summary>HTTP requests ({p.requests.reduce((n, r) => n + r.allowed + r.denied, 0)})</summary>
        <ul className="plain">{p.requests.map((r) => <li key={r.target}><code>{r.target}</code> <span className="d-allowed">{r.allowed} allowed</span> · <span className="d-denied">{r.denied} denied</span> <span className="muted">· {r.bytes_out} B out, {r.bytes_in} B in{r.credentials.length > 0 ? ` · sent ${r.credentials.join(', ')}` : ''}</span></li>)}</ul>
      </details>
    </article>
  );
}

export function ReviewPage() {
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [review, setReview] = useState<Review>();
  const [error, setError] = useState<string>();
  const query = { since: since ? new Date(since).toISOString() : undefined, until: until ? new Date(until).toISOString() : undefined };
  useEffect(() => {
    apiGet(routes.review, ReviewSchema, query)
      .then((r) => {
        setReview(r);
        setError(undefined);
        setSince((s) => s || toLocalInput(r.since));
      })
      .catch((e: Error) => setError(e.message));
  }, [since, until]);
  return (
    <div className="review">
      <div className="toolbar">
        <h2>Morning review</h2>
        <label>From <input type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} /></label>
        <label>To <input type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} placeholder="now" /></label>
        <a className="button" href={downloadUrl(routes.reviewJsonl, query)} download>Export JSONL</a>
        <a className="button" href={downloadUrl(routes.reviewHtml, query)} download>Export HTML report</a>
      </div>
      {error && <p className="error-text">{error}</p>}
      {review?.truncated && <p className="warn">This range holds more events than one review reads; narrow it.</p>}
      {review && review.personas.length === 0 && <p className="empty">No persona did anything in this range.</p>}
      {review?.personas.map((p) => <PersonaReview key={p.persona} p={p} />)}
    </div>
  );
}
