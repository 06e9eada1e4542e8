// One event opened from the feed: every field in full (the target and the
// reason wrap instead of being cut), the event's whole JSON, and the event in
// context: its neighbours in the same session, read from the database, any of
// which can be opened in turn.
import { useEffect, useState } from 'react';
import { EventPageSchema, routes, type ApiEvent } from '../../main/api/contract.js';
import { apiGet } from '../api/client.js';
import { clockTime, dateTime, decisionLabel } from '../ui/format.js';
import { PersonaChip } from '../ui/persona-chip.js';

/** Events on each side of the opened one. */
const CONTEXT = 6;

interface Context {
  readonly before: readonly ApiEvent[];
  readonly after: readonly ApiEvent[];
}

function useContext(e: ApiEvent): { context: Context | undefined; error: string | undefined } {
  const [context, setContext] = useState<Context>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    setContext(undefined);
    setError(undefined);
    Promise.all([
      apiGet(routes.events, EventPageSchema, { session: e.session, before: e.id, limit: CONTEXT, order: 'desc' }),
      apiGet(routes.events, EventPageSchema, { session: e.session, after: e.id, limit: CONTEXT, order: 'asc' }),
    ])
      .then(([b, a]) => {
        if (live) setContext({ before: [...b.events].reverse(), after: a.events });
      })
      .catch((err: Error) => {
        if (live) setError(err.message);
      });
    return () => {
      live = false;
    };
  }, [e.id, e.session]);
  return { context, error };
}

function ContextRow({ e, current, onOpen }: { e: ApiEvent; current: boolean; onOpen: (e: ApiEvent) => void }) {
  const d = decisionLabel(e.decision, e.kind);
  return (
    <li className={`context-row${current ? ' is-current' : ''}`} data-id={e.id}>
      <button type="button" className="link" onClick={() => onOpen(e)} disabled={current} aria-current={current ? 'true' : undefined}>
        <span className="c-time">{clockTime(e.ts)}</span> <span className="c-kind">{e.kind}</span> <code>{e.target ?? ''}</code>
        {d && <span className={` d-${d}`}> {d}</span>}
      </button>
    </li>
  );
}

export function EventDetail({ event: e, onOpen, onClose }: { event: ApiEvent; onOpen: (e: ApiEvent) => void; onClose: () => void }) {
  const { context, error } = useContext(e);
  const d = decisionLabel(e.decision, e.kind);
  const fields: Array<[string, string]> = [
    ['time', dateTime(e.ts)], ['kind', e.kind], ['tool', e.tool ?? ''], ['decision', d], ['on behalf of', e.on_behalf_of],
  ];
  return (
    <section className="event-detail" aria-label="Event detail" data-testid="event-detail" data-id={e.id}>
      <header>
        <PersonaChip name={e.persona} />
        <strong>{e.kind}</strong>
        <a href={`#/sessions/${e.session}`} title={e.session}>session {e.session.slice(0, 8)}</a>
        <button type="button" className="link close" onClick={onClose} aria-label="Close event detail">close</button>
      </header>
      <dl className="event-fields">
        {fields.filter(([, v]) => v !== '').map(([k, v]) => (
          <div key={k}><dt>{k}</dt><dd>{v}</dd></div>
        ))}
        <div><dt>target</dt><dd className="full-text" data-testid="detail-target">{e.target ?? ''}</dd></div>
        {e.reason !== null && <div><dt>reason</dt><dd className="full-text">{e.reason}</dd></div>}
      </dl>
      <h4>In context <span className="muted small">(this session)</span></h4>
      {error && <p className="error-text">{error}</p>}
      {context === undefined && error === undefined && <p className="muted small">loading…</p>}
      {context && (
        <ol className="context" data-testid="event-context">
          {context.before.map((x) => <ContextRow key={x.id} e={x} current={false} onOpen={onOpen} />)}
          <ContextRow e={e} current onOpen={onOpen} />
          {context.after.map((x) => <ContextRow key={x.id} e={x} current={false} onOpen={onOpen} />)}
        </ol>
      )}
      <details open>
        <summary>Event JSON</summary>
        <pre className="event-json" data-testid="event-json">{JSON.stringify(e, null, 2)}</pre>
      </details>
    </section>
  );
}
