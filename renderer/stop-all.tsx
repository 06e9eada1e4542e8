// The kill switch: always visible, one click, every running session; there
// is nothing to confirm (a stop is what it is for), and with nothing running
// it is disabled. Calm until it is needed: outlined, not a red block.
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
      <button type="button" className="danger stop-all-button" onClick={stopAll} disabled={busy || running === 0} aria-label="Stop all sessions"
        title={running === 0 ? 'Nothing is running' : `Stop ${running} running session${running === 1 ? '' : 's'}, each verified`}>
        {busy ? 'Stopping all…' : 'Stop all'}
      </button>
      {result && <span className="small" role="status">{result}</span>}
    </div>
  );
}
