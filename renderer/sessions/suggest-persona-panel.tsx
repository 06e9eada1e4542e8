// "Suggest persona" on a session's page: the narrowest persona that would
// have let this session do what it did (as `personae persona suggest`), what
// it changes in the persona the session ran as, and what it left out.
import { useState } from 'react';
import { SuggestedPersonaSchema, routes, type SuggestedPersona } from '../../main/api/contract.js';
import { apiGet } from '../api/client.js';

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

export function SuggestPersonaPanel({ sessionId, ended }: { sessionId: string; ended: boolean }) {
  const [result, setResult] = useState<SuggestedPersona | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const suggest = (): void => {
    setBusy(true);
    setError(undefined);
    apiGet(routes.sessionSuggestedPersona(sessionId), SuggestedPersonaSchema)
      .then(setResult, (e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  return (
    <details className="suggest-persona" data-testid="suggest-persona">
      <summary>Suggest persona</summary>
      <p className="muted small">
        The narrowest grants that would have let this session do what it did{ended ? '' : ' so far'}. Review it; install it with
        {' '}<code>personae persona install FILE</code>.
      </p>
      <button type="button" onClick={suggest} disabled={busy}>{busy ? 'Learning…' : result === undefined ? 'Suggest' : 'Again'}</button>
      {error !== undefined && <p className="error" role="alert">{error}</p>}
      {result !== undefined && (
        <div className="suggest-result">
          <h4>Changes to {result.current_path === null ? 'a new persona' : <code>{result.current_path}</code>}</h4>
          {result.changes.length === 0 ? <p className="muted">No changes.</p> : (
            <ul className="persona-diff" data-testid="suggest-diff">
              {result.changes.map((c, i) => (
                <li key={i} className={`diff-${c.kind}`}>
                  <code>{SIGN[c.kind]} {c.field}: {c.kind === 'changed' ? `${c.before ?? ''} → ${c.after ?? ''}` : c.after ?? c.before}</code>
                </li>
              ))}
            </ul>
          )}
          {result.left_out.length > 0 && (
            <>
              <h4>Left out on purpose</h4>
              <ul>{result.left_out.map((l, i) => <li key={i}><code>{l.what}</code>: {l.why}</li>)}</ul>
            </>
          )}
          <h4>{result.name}.yaml</h4>
          <pre className="suggest-yaml" data-testid="suggest-yaml">{result.yaml}</pre>
        </div>
      )}
    </details>
  );
}
