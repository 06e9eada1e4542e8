// The kill switch: always visible, one click, every running session.
import { useState } from 'react';
import { routes, StopAllResultSchema } from '../main/api/contract.js';
import { apiSend } from './api/client.js';
import { isRunning, useLive } from './api/live-state.js';

export function StopAll() {
  const live = useLive();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string>();
  const running = [...live.sessions.values()].filter(isRunning).length;
  const stopAll = (): void => {
    setBusy(true);
    setResult(undefined);
    apiSend('POST', routes.stopAll, {}, StopAllResultSchema)
      .then((r) => {
        const bad = r.results.filter((x) => !x.verified);
        setResult(bad.length === 0 ? `${r.results.length} stopped, verified` : `${bad.length} not verified stopped`);
      })
      .catch((e: Error) => setResult(e.message))
      .finally(() => setBusy(false));
  };
  return (
    <div className="stop-all">
      <span className="muted small" data-testid="running-count">{running} running</span>
      <button type="button" className="danger big" onClick={stopAll} disabled={busy} aria-label="Stop all sessions">
        {busy ? 'Stopping all…' : 'Stop all'}
      </button>
      {result && <span className="small" role="status">{result}</span>}
    </div>
  );
}
