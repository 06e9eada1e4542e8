// Per-session counts for the sessions list (the app's fleet view): denials
// (as the review counts them) and distinct files written or deleted.
import type { Statement } from 'better-sqlite3';

export interface SessionCounts {
  readonly denials: number;
  readonly files: number;
}

/** Kinds whose `deny` is about the engine itself (a stop, an error) or a human's decision on a worktree, not a refused attempt. */
export const NOT_DENIALS = ['stop', 'error', 'session.end', 'worktree.apply', 'worktree.discard'] as const;

const SQL = (n: number): string =>
  `SELECT session,
     SUM(CASE WHEN decision = 'deny' AND kind NOT IN (${NOT_DENIALS.map((k) => `'${k}'`).join(', ')}) THEN 1 ELSE 0 END) AS denials,
     COUNT(DISTINCT CASE WHEN kind IN ('fs.write', 'fs.delete') AND decision IS NOT 'deny' THEN target END) AS files
   FROM events WHERE session IN (${Array.from({ length: n }, () => '?').join(', ')}) GROUP BY session`;

/** Counts for each of `ids` (at most 500 per query; sessions without events get zeros). */
export function sessionCounts(prepare: (sql: string) => Statement, ids: readonly string[]): Map<string, SessionCounts> {
  const out = new Map<string, SessionCounts>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500).map(String);
    const rows = prepare(SQL(chunk.length)).all(...chunk) as Array<{ session: string; denials: number | null; files: number | null }>;
    for (const r of rows) out.set(r.session, { denials: r.denials ?? 0, files: r.files ?? 0 });
  }
  for (const id of ids) if (!out.has(id)) out.set(id, { denials: 0, files: 0 });
  return out;
}
