// `personae approvals`, `personae approve ID`, `personae deny ID`: answer the
// tool calls that wait for a human, in any running session.
import type { PendingApproval } from '../../sandbox/intercept/approvals.js';
import { sendControl } from '../../sandbox/session-control.js';
import { currentUser } from './context.js';
import { fail, info } from './output.js';
import { controlSocket, runningSessions } from './sessions.js';

async function pendingBySession(): Promise<Array<{ socket: string; approvals: PendingApproval[] }>> {
  const out = [];
  for (const s of await runningSessions()) {
    const socket = controlSocket(s.id);
    try {
      const r = await sendControl(socket, { op: 'approvals' }, 3000);
      out.push({ socket, approvals: (r.approvals as PendingApproval[] | undefined) ?? [] });
    } catch {
      // a session that cannot answer has nothing we can approve
    }
  }
  return out;
}

export async function approvalsCommand(opts: { json?: boolean }): Promise<number> {
  const all = (await pendingBySession()).flatMap((s) => s.approvals);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(all)}\n`);
    return 0;
  }
  if (all.length === 0) {
    process.stdout.write('no pending approvals\n');
    return 0;
  }
  for (const a of all) {
    const left = Math.max(0, Math.round((Date.parse(a.expires) - Date.now()) / 1000));
    process.stdout.write(`${a.id}  ${a.persona}  ${a.tool}  ${a.target.slice(0, 80)}  (${a.reason}; ${left}s left)  session ${a.session}\n`);
  }
  return 0;
}

export async function answerCommand(id: string, decision: 'allow' | 'deny'): Promise<number> {
  if (!/^[0-9a-f]{8}$/.test(id)) return fail(`"${id}" is not an approval id (see personae approvals)`, 2);
  for (const s of await pendingBySession()) {
    if (!s.approvals.some((a) => a.id === id)) continue;
    const r = await sendControl(s.socket, { op: 'answer', id, decision, by: currentUser() });
    if (r.ok === true) {
      info(`${decision === 'allow' ? 'approved' : 'denied'} ${id}`);
      return 0;
    }
  }
  return fail(`no pending approval ${id} (it may have timed out)`, 1);
}
