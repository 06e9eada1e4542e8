// Small display helpers.
import type { ApiEvent, ReviewPersona, SessionInfo } from '../../main/api/contract.js';

export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function dateTime(iso: string | null): string {
  if (iso === null) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** allowed / denied / waiting, as the feed shows a decision (a stop's decision says whether it was verified). */
export function decisionLabel(d: ApiEvent['decision'], kind = ''): string {
  if (kind === 'stop') return d === 'allow' ? 'verified' : d === 'deny' ? 'survivors' : '';
  return d === 'allow' ? 'allowed' : d === 'deny' ? 'denied' : d === 'ask' ? 'waiting' : '';
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function stateLabel(s: SessionInfo): string {
  switch (s.state) {
    case 'running':
      return 'running';
    case 'stopping':
      return 'stopping…';
    case 'stopped':
      return 'stopped · verified';
    case 'ended':
      return s.exit_code === null ? 'ended' : `ended · exit ${s.exit_code}`;
    case 'stop-failed':
      return 'stop failed: processes survive';
  }
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}


/** How a session ended, with its exit code: `exit 0`, `stopped`, `failure · exit 70`, `running`. */
export function sessionOutcome(s: ReviewPersona['sessions'][number]): string {
  if (s.ended_at === null && s.end_reason === null) return 'running';
  const code = s.exit_code === null ? '' : `exit ${s.exit_code}`;
  if (s.end_reason === null || s.end_reason === 'exit') return code || 'ended';
  return code ? `${s.end_reason} · ${code}` : s.end_reason;
}
