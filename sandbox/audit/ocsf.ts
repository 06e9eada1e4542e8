// Audit events as OCSF 1.3 records (`personae audit --format ocsf`, one JSON
// object per line) for SIEMs that take OCSF:
//   exec, exec.exit, session.start/end, stop  Process Activity (1007)
//   fs.write, fs.delete, fs.read              File System Activity (1001)
//   net.connect                               Network Activity (4001)
//   tool calls and everything else            API Activity (6003)
// `actor.user` is the persona (the identity of record), `actor.invoked_by`
// the human it acted on behalf of, `actor.session` the session, and
// `actor.authorizations` the decision with its rule. What OCSF has no field
// for stays under `unmapped.personae`. Pure.
import { basename } from 'node:path';
import type { AuditEvent } from './event.js';

export const OCSF_VERSION = '1.3.0';

export interface OcsfOptions {
  /** The host that recorded the events (device.hostname). */
  readonly hostname: string;
  readonly productVersion: string;
}

type Rec = Record<string, unknown>;

interface Klass {
  readonly uid: number;
  readonly name: string;
  readonly category: number;
  readonly categoryName: string;
}

const PROCESS: Klass = { uid: 1007, name: 'Process Activity', category: 1, categoryName: 'System Activity' };
const FILE: Klass = { uid: 1001, name: 'File System Activity', category: 1, categoryName: 'System Activity' };
const NETWORK: Klass = { uid: 4001, name: 'Network Activity', category: 4, categoryName: 'Network Activity' };
const API: Klass = { uid: 6003, name: 'API Activity', category: 6, categoryName: 'Application Activity' };

const READ_TOOLS = new Set(['Read', 'Glob', 'Grep', 'LS', 'WebFetch', 'WebSearch', 'NotebookRead']);
const UPDATE_TOOLS = new Set(['Edit', 'MultiEdit', 'NotebookEdit']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function actorOf(e: AuditEvent): Rec {
  return {
    user: { name: e.persona, uid: e.persona, type_id: 99, type: 'Persona' },
    invoked_by: e.on_behalf_of,
    app_name: e.agent.version === null ? e.agent.kind : `${e.agent.kind} ${e.agent.version}`,
    session: { uid: e.session },
    ...(e.decision === null ? {} : { authorizations: [{ decision: e.decision, ...(e.reason === null ? {} : { policy: { name: e.reason } }) }] }),
  };
}

function outcome(e: AuditEvent): Rec {
  switch (e.decision) {
    case 'allow': return { action_id: 1, action: 'Allowed', disposition_id: 1, disposition: 'Allowed', status_id: 1, status: 'Success' };
    case 'deny': return { action_id: 2, action: 'Denied', disposition_id: 2, disposition: 'Blocked', status_id: 2, status: 'Failure' };
    case 'ask': return { action_id: 99, action: 'Ask', disposition_id: 99, disposition: 'Waiting for a human', status_id: 0, status: 'Unknown' };
    case null: return e.kind === 'error' || e.kind === 'bypass' ? { status_id: 2, status: 'Failure' } : { status_id: 1, status: 'Success' };
  }
}

function severity(e: AuditEvent): Rec {
  if (e.kind === 'bypass' || e.kind === 'error') return { severity_id: 4, severity: 'High' };
  if (e.decision === 'deny' || e.kind === 'drift' || e.kind === 'limit') return { severity_id: 3, severity: 'Medium' };
  return { severity_id: 1, severity: 'Informational' };
}

function processActivity(e: AuditEvent): { klass: Klass; activity: [number, string]; fields: Rec } {
  const d = e.detail;
  const terminate = e.kind === 'exec.exit' || e.kind === 'session.end' || e.kind === 'stop';
  const argv = Array.isArray(d.argv) ? d.argv.map(String) : Array.isArray(d.command) ? d.command.map(String) : undefined;
  const path = str(d.path) ?? argv?.[0];
  const process: Rec = {
    ...(num(d.pid) === undefined ? {} : { pid: num(d.pid) }),
    ...(argv === undefined ? (e.target === null ? {} : { cmd_line: e.target }) : { cmd_line: argv.join(' ') }),
    ...(path === undefined ? {} : { file: { path, name: basename(path), type_id: 1, type: 'Regular File' } }),
    ...(num(d.ppid) === undefined ? {} : { parent_process: { pid: num(d.ppid) } }),
  };
  const exit = num(d.exit_code);
  return {
    klass: PROCESS,
    activity: terminate ? [2, 'Terminate'] : [1, 'Launch'],
    fields: { process, ...(exit === undefined ? {} : { exit_code: exit }) },
  };
}

function fileActivity(e: AuditEvent): { klass: Klass; activity: [number, string]; fields: Rec } {
  const op = str(e.detail.op);
  const activity: [number, string] = e.kind === 'fs.delete' ? [4, 'Delete'] : (e.kind as string) === 'fs.read' ? [2, 'Read'] : op === 'modify' ? [3, 'Update'] : [1, 'Create'];
  const folder = op === 'mkdir' || op === 'rmdir';
  const path = e.target ?? '';
  return { klass: FILE, activity, fields: { file: { path, name: basename(path), type_id: folder ? 2 : 1, type: folder ? 'Folder' : 'Regular File' } } };
}

function networkActivity(e: AuditEvent): { klass: Klass; activity: [number, string]; fields: Rec } {
  const target = e.target ?? '';
  const colon = target.lastIndexOf(':');
  const host = colon > 0 ? target.slice(0, colon).replace(/^\[|\]$/g, '') : target;
  const port = colon > 0 ? Number(target.slice(colon + 1)) : undefined;
  const protocol = str(e.detail.protocol);
  return {
    klass: NETWORK,
    activity: e.decision === 'deny' ? [5, 'Refuse'] : [1, 'Open'],
    fields: {
      dst_endpoint: { hostname: host, ...(port !== undefined && Number.isInteger(port) ? { port } : {}) },
      connection_info: { direction_id: 2, direction: 'Outbound', ...(protocol === undefined ? {} : { protocol_name: protocol }) },
    },
  };
}

function apiActivity(e: AuditEvent, o: OcsfOptions): { klass: Klass; activity: [number, string]; fields: Rec } {
  const tool = e.tool ?? e.kind;
  const activity: [number, string] = e.kind !== 'tool.call' ? [99, 'Other']
    : READ_TOOLS.has(tool) ? [2, 'Read'] : UPDATE_TOOLS.has(tool) ? [3, 'Update'] : tool === 'Write' ? [1, 'Create'] : [99, 'Other'];
  return {
    klass: API,
    activity,
    fields: {
      api: { operation: e.kind === 'tool.call' ? tool : `${e.kind}${e.tool === null ? '' : ` ${e.tool}`}`, service: { name: e.agent.kind } },
      src_endpoint: { hostname: o.hostname },
      ...(e.target === null ? {} : { resources: [{ name: e.target, type: e.kind === 'tool.call' ? 'tool input' : 'target' }] }),
    },
  };
}

function classify(e: AuditEvent, o: OcsfOptions): { klass: Klass; activity: [number, string]; fields: Rec } {
  switch (e.kind) {
    case 'exec': case 'exec.exit': case 'session.start': case 'session.end': case 'stop':
      return processActivity(e);
    case 'fs.write': case 'fs.delete':
      return fileActivity(e);
    case 'net.connect':
      return networkActivity(e);
    default:
      return e.kind.startsWith('fs.') && e.kind !== 'fs.diff' ? fileActivity(e) : apiActivity(e, o);
  }
}

/** One audit event as one OCSF record. */
export function toOcsf(e: AuditEvent, o: OcsfOptions): Rec {
  const { klass, activity, fields } = classify(e, o);
  const time = Date.parse(e.ts);
  return {
    class_uid: klass.uid,
    class_name: klass.name,
    category_uid: klass.category,
    category_name: klass.categoryName,
    activity_id: activity[0],
    activity_name: activity[1],
    type_uid: klass.uid * 100 + activity[0],
    type_name: `${klass.name}: ${activity[1]}`,
    time: Number.isFinite(time) ? time : 0,
    ...severity(e),
    ...outcome(e),
    message: [e.kind, e.decision, e.target ?? e.tool].filter((x) => x !== null && x !== undefined).join(' '),
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'personae', vendor_name: 'personae', version: o.productVersion },
      uid: e.id,
      correlation_uid: e.session,
      original_time: e.ts,
      log_name: 'personae audit',
    },
    actor: actorOf(e),
    device: { hostname: o.hostname, type_id: 0, type: 'Unknown' },
    ...fields,
    unmapped: { personae: { kind: e.kind, tool: e.tool, target: e.target, reason: e.reason, detail: e.detail } },
  };
}
