// Shared by `personae persona suggest` and the session page's "Suggest
// persona" panel: the recorded sessions from the store, the persona they ran
// as, the suggestion as a commented persona file, and what it changes.
import { findPersona, parsePersonaText } from '../personas/loader.js';
import { diffPersonas } from '../personas/diff.js';
import type { PersonaChange } from '../personas/diff.js';
import type { AuditEvent } from '../sandbox/audit/event.js';
import type { AuditStore } from '../sandbox/audit/store.js';
import { suggestPersona } from '../sandbox/policy/suggest.js';
import type { LeftOut, RecordedSession } from '../sandbox/policy/suggest.js';
import { suggestionToYaml } from '../sandbox/policy/suggest-yaml.js';

export interface SuggestedPersona {
  readonly yaml: string;
  readonly name: string;
  /** The installed persona's file, when there is one. */
  readonly currentPath: string | null;
  readonly changes: readonly PersonaChange[];
  readonly leftOut: readonly LeftOut[];
  readonly sessions: readonly string[];
}

const MAX_EVENTS_PER_SESSION = 200_000;

/** A session id or a unique prefix of one; throws a one-line Error otherwise. */
export function resolveSession(store: AuditStore, idOrPrefix: string): string {
  if (store.getSession(idOrPrefix) !== null) return idOrPrefix;
  const matches = store.listSessions({ limit: 10_000 }).filter((s) => s.id.startsWith(idOrPrefix));
  if (matches.length === 1) return (matches[0] as { id: string }).id;
  throw new Error(matches.length === 0 ? `no session ${JSON.stringify(idOrPrefix)} in the audit log` : `${JSON.stringify(idOrPrefix)} matches ${matches.length} sessions; give more of the id`);
}

function eventsOf(store: AuditStore, session: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  let afterId: string | undefined;
  while (out.length < MAX_EVENTS_PER_SESSION) {
    const page = store.query({ session, order: 'asc', limit: 5000, ...(afterId === undefined ? {} : { afterId }) });
    if (page.length === 0) break;
    out.push(...page);
    afterId = page[page.length - 1]?.id;
  }
  return out;
}

export function suggestFromSessions(home: string, store: AuditStore, ids: readonly string[], opts: { name?: string; minSessions?: number } = {}): SuggestedPersona {
  if (ids.length === 0) throw new Error('name at least one session (personae ps, personae audit)');
  const sessions: RecordedSession[] = ids.map((raw) => {
    const id = resolveSession(store, raw);
    return { id, workspace: store.getSession(id)?.workspace ?? null, events: eventsOf(store, id) };
  });
  const personaName = store.getSession(sessions[0]?.id ?? '')?.persona;
  const found = personaName === undefined ? undefined : findPersona(home, personaName);
  const current = found?.ok ? found.persona : undefined;
  const suggestion = suggestPersona({
    sessions,
    ...(current === undefined ? {} : { current }),
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.minSessions === undefined ? {} : { minSessions: opts.minSessions }),
  });
  const yaml = suggestionToYaml(suggestion);
  const parsed = parsePersonaText(yaml, `${suggestion.persona.name}.yaml`);
  if (!parsed.ok) throw new Error(`the suggested persona does not validate (a bug): ${parsed.errors[0] ?? ''}`);
  return {
    yaml,
    name: parsed.persona.name,
    currentPath: found?.ok ? found.path : null,
    changes: current === undefined ? [] : diffPersonas(current, parsed.persona),
    leftOut: suggestion.leftOut,
    sessions: suggestion.sessions,
  };
}
