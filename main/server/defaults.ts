// The launch form's default workspace: the last session's workspace while it
// still exists, else the fallback (the user's home), with a note saying which.
import { existsSync } from 'node:fs';
import type { AuditStore } from '../../sandbox/audit/store.js';

export function defaultWorkspace(store: AuditStore, fallback: string): { workspace: string; workspace_note: string } {
  for (const s of store.listSessions({ limit: 20 })) {
    if (s.workspace !== null && existsSync(s.workspace)) {
      return { workspace: s.workspace, workspace_note: `the workspace of the last session (${s.persona})` };
    }
  }
  return { workspace: fallback, workspace_note: 'your home folder: no session was launched yet' };
}
