// The morning review as one self-contained HTML file: inline CSS, no
// scripts, no external resources. Every string from the log is escaped (an
// agent chose many of them).
import type { Review, ReviewPersona } from '../api/contract.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

const CSS = `
body{font:14px/1.5 system-ui,sans-serif;color:#1d2330;background:#f7f7f5;margin:0;padding:2rem;max-width:70rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}h3{font-size:.95rem;margin:1rem 0 .25rem;color:#4a5366}
.muted{color:#6b7385}.card{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
.stats{display:flex;gap:1.5rem;flex-wrap:wrap}.stat b{display:block;font-size:1.3rem}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eef0f3;vertical-align:top}
.deny{color:#b42318;font-weight:600}.allow{color:#067647}code,pre{font:12px ui-monospace,monospace}pre{background:#f3f4f6;padding:.5rem;overflow:auto}
`;

function table(head: readonly string[], rows: readonly string[][]): string {
  if (rows.length === 0) return '<p class="muted">none</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function personaSection(p: ReviewPersona): string {
  const e = escapeHtml;
  const stats: Array<[string, string]> = [
    ['sessions', String(p.sessions.length)],
    ['duration', formatDuration(p.duration_ms)],
    ['tool calls', String(p.tool_calls)],
    ['commands', String(p.commands)],
    ['denials', String(p.denials)],
    ['drift flags', String(p.drift_flags.length)],
    ['files changed', String(p.files.length)],
    ['credential refusals', String(p.credential_refusals)],
  ];
  return `<section class="card"><h2>${e(p.display_name ?? p.persona)} <span class="muted">${e(p.persona)}</span></h2>
<div class="stats">${stats.map(([k, v]) => `<div class="stat"><b>${e(v)}</b>${e(k)}</div>`).join('')}</div>
<h3>Sessions</h3>${table(
    ['started', 'command', 'duration', 'end', 'exit', 'on behalf of', 'workspace'],
    p.sessions.map((s) => [e(s.started_at), `<code>${e(s.command.join(' '))}</code>`, e(formatDuration(s.duration_ms)), e(s.end_reason ?? 'running'), e(s.exit_code === null ? '' : String(s.exit_code)), e(s.on_behalf_of), `<code>${e(s.workspace ?? '')}</code>`]),
  )}
<h3>Denied</h3>${table(
    ['times', 'first', 'last', 'kind', 'target', 'reason'],
    p.denied_groups.map((d) => [String(d.count), e(d.first_ts), e(d.last_ts), e(d.kind), `<code>${e(d.target ?? '')}</code>`, `<span class="deny">${e(d.reason ?? 'denied')}</span>`]),
  )}
<h3>Drift</h3>${table(['time', 'target', 'reason'], p.drift_flags.map((d) => [e(d.ts), `<code>${e(d.target ?? '')}</code>`, e(d.reason ?? '')]))}
<h3>Files changed</h3>${table(
    ['path', 'writes', 'deletes', 'diff'],
    p.files.map((f) => [`<code>${e(f.path)}</code>`, String(f.writes), String(f.deletes), f.diff === null ? '<span class="muted">not recorded</span>' : `<pre>${e(f.diff)}</pre>`]),
  )}
<h3>Network destinations</h3>${table(
    ['destination', 'allowed', 'denied'],
    p.network.map((n) => [`<code>${e(n.target)}</code>`, `<span class="allow">${n.allowed}</span>`, n.denied > 0 ? `<span class="deny">${n.denied}</span>` : '0']),
  )}
<h3>HTTP requests</h3>${table(
    ['method and host', 'allowed', 'denied', 'bytes in', 'bytes out', 'credentials sent'],
    p.requests.map((r) => [`<code>${e(r.target)}</code>`, `<span class="allow">${r.allowed}</span>`, r.denied > 0 ? `<span class="deny">${r.denied}</span>` : '0', String(r.bytes_in), String(r.bytes_out), e(r.credentials.join(', '))]),
  )}</section>`;
}

export function renderReviewHtml(r: Review): string {
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>personae morning review</title><style>${CSS}</style></head><body>
<h1>Morning review</h1>
<p class="muted">${e(r.since)} to ${e(r.until)} · generated ${e(r.generated_at)}${r.truncated ? ' · <b>truncated: the range holds more events than one review reads</b>' : ''}</p>
${r.personas.length === 0 ? '<p>No persona did anything in this range.</p>' : r.personas.map(personaSection).join('\n')}
</body></html>
`;
}
