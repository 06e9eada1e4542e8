// Filters for the feed: persona, session, kind, decision, and text search.
import { useEffect, useState } from 'react';
import type { EventFilter } from '../../main/api/contract.js';

const KINDS = ['', 'tool.*', 'exec', 'fs.*', 'net.connect', 'http.request', 'credential', 'session.*', 'stop', 'limit', 'approval', 'drift', 'error'];

export interface FilterOptions {
  readonly personas: readonly string[];
  readonly sessions: readonly string[];
  /** Fields fixed by the page (a session view fixes its session). */
  readonly fixed?: Partial<EventFilter>;
}

export function FeedFilters({ value, onChange, options }: { value: EventFilter; onChange: (f: EventFilter) => void; options: FilterOptions }) {
  const [text, setText] = useState(value.text ?? '');
  // Text search waits for a pause in typing.
  useEffect(() => {
    const t = window.setTimeout(() => {
      if ((value.text ?? '') !== text) onChange({ ...value, text: text || undefined });
    }, 250);
    return () => window.clearTimeout(t);
  }, [text, value, onChange]);
  const set = (k: keyof EventFilter, v: string): void => onChange({ ...value, [k]: v === '' ? undefined : v });
  return (
    <div className="filters" role="search">
      {options.fixed?.persona === undefined && (
        <label>
          Persona
          <select aria-label="Filter by persona" value={value.persona ?? ''} onChange={(e) => set('persona', e.target.value)}>
            <option value="">all</option>
            {options.personas.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
      )}
      {options.fixed?.session === undefined && (
        <label>
          Session
          <select aria-label="Filter by session" value={value.session ?? ''} onChange={(e) => set('session', e.target.value)}>
            <option value="">all</option>
            {options.sessions.map((s) => <option key={s} value={s}>{s.slice(0, 8)}</option>)}
          </select>
        </label>
      )}
      <label>
        Kind
        <select aria-label="Filter by kind" value={value.kind ?? ''} onChange={(e) => set('kind', e.target.value)}>
          {KINDS.map((k) => <option key={k} value={k}>{k === '' ? 'all' : k}</option>)}
        </select>
      </label>
      <label>
        Decision
        <select aria-label="Filter by decision" value={value.decision ?? ''} onChange={(e) => set('decision', e.target.value)}>
          <option value="">all</option>
          <option value="allow">allowed</option>
          <option value="deny">denied</option>
          <option value="ask">waiting</option>
        </select>
      </label>
      <label className="grow">
        Search
        <input type="search" aria-label="Search events" placeholder="tool, target or reason" value={text} maxLength={200} onChange={(e) => setText(e.target.value)} />
      </label>
    </div>
  );
}
