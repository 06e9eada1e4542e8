// `personae audit [--session ID] [--persona NAME] [--kind K] [--since T] [--format table|jsonl|ocsf]`
import { hostname } from 'node:os';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import { formatTable, jsonLine, toJsonlLine } from '../../sandbox/audit/export.js';
import { toOcsf } from '../../sandbox/audit/ocsf.js';
import { parseSince } from '../../sandbox/audit/since.js';
import type { AuditFilter } from '../../sandbox/audit/store.js';
import { EVENT_KINDS } from '../../sandbox/audit/event.js';
import { openStore } from './context.js';
import { fail } from './output.js';

export async function auditCommand(opts: Record<string, string | undefined>): Promise<number> {
  const format = opts.format ?? 'table';
  if (format !== 'table' && format !== 'jsonl' && format !== 'ocsf') return fail(`--format must be table, jsonl or ocsf, not "${format}"`, 2);
  const ocsf = { hostname: hostname(), productVersion: '0.1.0' };
  const line = format === 'ocsf' ? (e: AuditEvent): string => jsonLine(toOcsf(e, ocsf)) : toJsonlLine;
  const limit = Number(opts.limit ?? 1000);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000) return fail('--limit must be a whole number from 1 to 1000000', 2);
  let since: Date | undefined;
  try {
    since = opts.since ? parseSince(opts.since) : undefined;
  } catch (e) {
    return fail(`--since: ${(e as Error).message}`, 2);
  }
  if (opts.decision && !['allow', 'deny', 'ask'].includes(opts.decision)) return fail('--decision must be allow, deny or ask', 2);
  const kindError = opts.kind === undefined ? undefined : kindProblem(opts.kind);
  if (kindError !== undefined) return fail(kindError, 2);
  let store;
  try {
    store = await openStore(true);
  } catch {
    if (format === 'table') process.stdout.write('no events yet\n');
    return 0;
  }
  try {
    let session = opts.session;
    if (session && session.length < 36) {
      const matches = store.listSessions({ limit: 10000 }).filter((s) => s.id.startsWith(session ?? ''));
      if (matches.length === 1) session = matches[0]?.id;
    }
    const base: AuditFilter = {
      ...(session ? { session } : {}),
      ...(opts.persona ? { persona: opts.persona } : {}),
      ...(opts.kind ? { kind: opts.kind } : {}),
      ...(opts.decision ? { decision: opts.decision as 'allow' | 'deny' | 'ask' } : {}),
      ...(since ? { since: since.toISOString() } : {}),
    };
    // Page through in id order so any number of events streams with bounded memory.
    let printed = 0;
    let afterId: string | undefined;
    const table = [];
    while (printed < limit) {
      const page = store.query({ ...base, order: 'asc', limit: Math.min(5000, limit - printed), ...(afterId ? { afterId } : {}) });
      if (page.length === 0) break;
      if (format !== 'table') process.stdout.write(`${page.map(line).join('\n')}\n`);
      else table.push(...page);
      printed += page.length;
      afterId = page[page.length - 1]?.id;
    }
    if (format === 'table') process.stdout.write(table.length === 0 ? 'no matching events\n' : `${formatTable(table)}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** Why `--kind` matches no event kind (the message names the valid ones), or undefined. */
export function kindProblem(kind: string, kinds: readonly string[] = EVENT_KINDS): string | undefined {
  if (kind === '*' || kinds.includes(kind)) return undefined;
  if (kind.endsWith('*') && kinds.some((k) => k.startsWith(kind.slice(0, -1)))) return undefined;
  return `--kind: unknown event kind "${kind}"; valid kinds: ${kinds.join(', ')} (or a prefix like session.*)`;
}
