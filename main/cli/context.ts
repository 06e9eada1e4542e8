// What every command needs: personae's home and its stores.
import { userInfo } from 'node:os';
import { auditDbPath, personaeHome } from '../../personas/paths.js';
import type { AuditStore } from '../../sandbox/audit/store.js';

export function home(): string {
  return personaeHome(process.env);
}

export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid:${process.getuid?.() ?? '?'}`;
  }
}

export async function openStore(readonly = false, onError?: (e: Error) => void): Promise<AuditStore> {
  const { openAuditStore } = await import('../../sandbox/audit/store.js');
  return openAuditStore(auditDbPath(home()), {
    readonly,
    onError: (e) => {
      process.stderr.write(`personae: audit log: ${e.message}\n`);
      onError?.(e);
    },
  });
}
