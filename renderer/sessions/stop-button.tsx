// Stop one session. The button says "stopping…" until the backend reports
// the stop verified (the session's state then reads "stopped · verified").
import { useState } from 'react';
import { routes, StopOutcomeSchema, type SessionInfo } from '../../main/api/contract.js';
import { apiSend } from '../api/client.js';
import { isRunning } from '../api/live-state.js';

export function StopButton({ session }: { session: SessionInfo }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (!isRunning(session)) return null;
  const stop = (): void => {
    setBusy(true);
    setError(undefined);
    apiSend('POST', routes.sessionStop(session.id), {}, StopOutcomeSchema)
      .then((r) => {
        if (!r.verified) setError(r.error ?? `${r.survivors} processes survive`);
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };
  return (
    <span className="stop">
      <button type="button" className="danger" onClick={stop} disabled={busy || session.state === 'stopping'} aria-label={`Stop session ${session.id.slice(0, 8)}`}>
        {busy || session.state === 'stopping' ? 'Stopping…' : 'Stop'}
      </button>
      {error && <span className="error-text">{error}</span>}
    </span>
  );
}
