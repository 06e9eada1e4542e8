// OCSF records from audit events: the class per kind, the actor naming the
// persona and the human, the decision as action and authorization.
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import { toOcsf } from '../../sandbox/audit/ocsf.js';

const base: AuditEvent = {
  id: 'ev-1', ts: '2026-03-01T10:00:00.000Z', session: '7d33c49e-3cab-4f2e-a6ca-e0715e9fa051', persona: 'night-builder',
  agent: { kind: 'claude', version: '2.1.0' }, on_behalf_of: 'alice', kind: 'exec', tool: null, target: null, decision: null, reason: null, detail: {},
};
const ev = (over: Partial<AuditEvent>): AuditEvent => ({ ...base, ...over });
const o = { hostname: 'build-7', productVersion: '0.1.0' };

describe('toOcsf', () => {
  it('an exec is Process Activity: Launch with the command line', () => {
    const r = toOcsf(ev({ kind: 'exec', tool: 'git', target: 'git status', detail: { path: '/usr/bin/git', argv: ['git', 'status'], pid: 42, ppid: 7 } }), o);
    expect(r).toMatchObject({
      class_uid: 1007, category_uid: 1, activity_id: 1, type_uid: 100701, time: Date.parse(base.ts),
      process: { pid: 42, cmd_line: 'git status', file: { path: '/usr/bin/git', name: 'git' }, parent_process: { pid: 7 } },
      metadata: { version: '1.3.0', uid: 'ev-1', correlation_uid: base.session, product: { name: 'personae' } },
      device: { hostname: 'build-7' },
    });
  });

  it('the actor is the persona, invoked on behalf of the human, in the session', () => {
    const r = toOcsf(ev({ kind: 'net.connect', target: 'api.github.com:443', decision: 'deny', reason: 'not in network.allow', detail: { protocol: 'connect' } }), o);
    expect(r.actor).toEqual({
      user: { name: 'night-builder', uid: 'night-builder', type_id: 99, type: 'Persona' },
      invoked_by: 'alice',
      app_name: 'claude 2.1.0',
      session: { uid: base.session },
      authorizations: [{ decision: 'deny', policy: { name: 'not in network.allow' } }],
    });
    expect(r).toMatchObject({
      class_uid: 4001, activity_id: 5, activity_name: 'Refuse', action_id: 2, disposition_id: 2, status_id: 2, severity_id: 3,
      dst_endpoint: { hostname: 'api.github.com', port: 443 }, connection_info: { direction_id: 2, protocol_name: 'connect' },
    });
  });

  it('file writes and deletes are File System Activity', () => {
    expect(toOcsf(ev({ kind: 'fs.write', target: '/ws/a.txt', detail: { op: 'create' } }), o)).toMatchObject({ class_uid: 1001, activity_id: 1, file: { path: '/ws/a.txt', name: 'a.txt', type_id: 1 } });
    expect(toOcsf(ev({ kind: 'fs.write', target: '/ws/a.txt', detail: { op: 'modify' } }), o)).toMatchObject({ activity_id: 3 });
    expect(toOcsf(ev({ kind: 'fs.delete', target: '/ws/d', detail: { op: 'rmdir' } }), o)).toMatchObject({ activity_id: 4, file: { type_id: 2 } });
  });

  it('tool calls and other records are API Activity; what OCSF has no field for is kept', () => {
    const r = toOcsf(ev({ kind: 'tool.call', tool: 'Edit', target: 'src/a.ts', decision: 'allow', reason: 'tools.allow: Edit(src/**)', detail: { would_be: 'ask' } }), o);
    expect(r).toMatchObject({ class_uid: 6003, activity_id: 3, api: { operation: 'Edit', service: { name: 'claude' } }, action_id: 1, resources: [{ name: 'src/a.ts' }] });
    expect(r.unmapped).toEqual({ personae: { kind: 'tool.call', tool: 'Edit', target: 'src/a.ts', reason: 'tools.allow: Edit(src/**)', detail: { would_be: 'ask' } } });
    expect(toOcsf(ev({ kind: 'bypass' }), o)).toMatchObject({ class_uid: 6003, activity_id: 99, severity_id: 4, status_id: 2 });
    expect(toOcsf(ev({ kind: 'session.end', detail: { exit_code: 3 } }), o)).toMatchObject({ class_uid: 1007, activity_id: 2, exit_code: 3 });
  });
});
