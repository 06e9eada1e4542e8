// The sessions table: one row per run, written when a session starts (and
// again once its sandbox pid is known) and when it ends.
import type { Database, Statement } from 'better-sqlite3';
import type { AgentInfo } from './event.js';
import { parseWorktreeRecord, WORKTREE_STATES, type WorktreeRecord, type WorktreeState } from '../worktree/record.js';

export interface SessionRecord {
  readonly id: string;
  readonly persona: string;
  readonly agent: AgentInfo;
  readonly on_behalf_of: string;
  readonly workspace: string | null;
  readonly command: readonly string[];
  readonly supervisor_pid: number | null;
  readonly sandbox_pid: number | null;
  readonly started_at: string;
  readonly ended_at: string | null;
  readonly exit_code: number | null;
  readonly end_reason: string | null;
  /** The git worktree the session ran in, when it ran in one. */
  readonly worktree: WorktreeRecord | null;
  readonly worktree_state: WorktreeState | null;
  /** Files the session changed (a worktree session's, counted by git at its end). */
  readonly files_changed: number | null;
}

/** A session's start (or an update of it): omitted fields keep their stored value. */
export interface SessionUpsert {
  readonly id: string;
  readonly persona: string;
  readonly agent: AgentInfo;
  readonly on_behalf_of: string;
  readonly workspace?: string | null;
  readonly command?: readonly string[];
  readonly supervisor_pid?: number | null;
  readonly sandbox_pid?: number | null;
  /** Default: now, for a new session. */
  readonly started_at?: string;
  readonly worktree?: WorktreeRecord | null;
  readonly worktree_state?: WorktreeState | null;
}

/** A worktree session's later facts. */
export interface WorktreeUpdate {
  readonly state?: WorktreeState;
  readonly files_changed?: number | null;
}

export interface SessionEnd {
  readonly exit_code?: number | null;
  readonly end_reason?: string | null;
  /** Default: now. */
  readonly ended_at?: string;
}

export interface SessionListOptions {
  /** true: only sessions without an end; false: only ended ones. */
  readonly running?: boolean;
  readonly persona?: string;
  /** Default 1000, at most 10000. Newest first. */
  readonly limit?: number;
  /** Only worktree sessions in this state. */
  readonly worktreeState?: WorktreeState;
}

interface SessionRow {
  id: string;
  persona: string;
  agent_kind: string;
  agent_version: string | null;
  on_behalf_of: string;
  workspace: string | null;
  command: string;
  supervisor_pid: number | null;
  sandbox_pid: number | null;
  started_at: string;
  ended_at: string | null;
  exit_code: number | null;
  end_reason: string | null;
  worktree: string | null;
  worktree_state: string | null;
  files_changed: number | null;
}

function worktreeState(text: string | null): WorktreeState | null {
  return WORKTREE_STATES.find((s) => s === text) ?? null;
}

function parseCommand(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

function rowToSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    persona: row.persona,
    agent: { kind: row.agent_kind, version: row.agent_version },
    on_behalf_of: row.on_behalf_of,
    workspace: row.workspace,
    command: parseCommand(row.command),
    supervisor_pid: row.supervisor_pid,
    sandbox_pid: row.sandbox_pid,
    started_at: row.started_at,
    ended_at: row.ended_at,
    exit_code: row.exit_code,
    end_reason: row.end_reason,
    worktree: parseWorktreeRecord(row.worktree),
    worktree_state: worktreeState(row.worktree_state),
    files_changed: row.files_changed,
  };
}

function pid(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

export interface SessionTable {
  upsert(input: SessionUpsert): SessionRecord;
  end(id: string, end?: SessionEnd): boolean;
  updateWorktree(id: string, update: WorktreeUpdate): boolean;
  get(id: string): SessionRecord | null;
  list(opts?: SessionListOptions): SessionRecord[];
}

const COLUMNS =
  'id, persona, agent_kind, agent_version, on_behalf_of, workspace, command, supervisor_pid, sandbox_pid, started_at, ended_at, exit_code, end_reason, worktree, worktree_state, files_changed';

/** Session statements over one connection; prepared on first use (a read-only store never prepares writes). */
export function createSessionTable(db: Database): SessionTable {
  const cache = new Map<string, Statement>();
  const stmt = (sql: string): Statement => {
    let s = cache.get(sql);
    if (s === undefined) { s = db.prepare(sql); cache.set(sql, s); }
    return s;
  };
  const get = (id: string): SessionRecord | null => {
    const row = stmt(`SELECT ${COLUMNS} FROM sessions WHERE id = ?`).get(String(id)) as SessionRow | undefined;
    return row === undefined ? null : rowToSession(row);
  };

  const upsertTx = db.transaction((input: SessionUpsert): SessionRecord => {
    const old = get(input.id);
    const merged: SessionRecord = {
      id: String(input.id),
      persona: String(input.persona),
      agent: { kind: String(input.agent.kind), version: input.agent.version == null ? null : String(input.agent.version) },
      on_behalf_of: String(input.on_behalf_of),
      workspace: input.workspace !== undefined ? input.workspace : old?.workspace ?? null,
      command: input.command !== undefined ? input.command.map(String) : old?.command ?? [],
      supervisor_pid: input.supervisor_pid !== undefined ? pid(input.supervisor_pid) : old?.supervisor_pid ?? null,
      sandbox_pid: input.sandbox_pid !== undefined ? pid(input.sandbox_pid) : old?.sandbox_pid ?? null,
      started_at: input.started_at ?? old?.started_at ?? new Date().toISOString(),
      ended_at: old?.ended_at ?? null,
      exit_code: old?.exit_code ?? null,
      end_reason: old?.end_reason ?? null,
      worktree: input.worktree !== undefined ? input.worktree : old?.worktree ?? null,
      worktree_state: input.worktree_state !== undefined ? input.worktree_state : old?.worktree_state ?? null,
      files_changed: old?.files_changed ?? null,
    };
    stmt(
      `INSERT INTO sessions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET persona = excluded.persona, agent_kind = excluded.agent_kind,
         agent_version = excluded.agent_version, on_behalf_of = excluded.on_behalf_of,
         workspace = excluded.workspace, command = excluded.command, supervisor_pid = excluded.supervisor_pid,
         sandbox_pid = excluded.sandbox_pid, started_at = excluded.started_at,
         worktree = excluded.worktree, worktree_state = excluded.worktree_state`,
    ).run(
      merged.id, merged.persona, merged.agent.kind, merged.agent.version, merged.on_behalf_of, merged.workspace,
      JSON.stringify(merged.command), merged.supervisor_pid, merged.sandbox_pid, merged.started_at,
      merged.ended_at, merged.exit_code, merged.end_reason,
      merged.worktree === null ? null : JSON.stringify(merged.worktree), merged.worktree_state, merged.files_changed,
    );
    return merged;
  });

  return {
    upsert: (input) => upsertTx.immediate(input),
    end: (id, end = {}) => {
      const exit = end.exit_code;
      const result = stmt('UPDATE sessions SET ended_at = ?, exit_code = ?, end_reason = ? WHERE id = ?').run(
        end.ended_at ?? new Date().toISOString(),
        typeof exit === 'number' && Number.isInteger(exit) ? exit : null,
        end.end_reason ?? null,
        String(id),
      );
      return result.changes > 0;
    },
    updateWorktree: (id, update) => {
      const sets: string[] = [];
      const params: (string | number | null)[] = [];
      if (update.state !== undefined) { sets.push('worktree_state = ?'); params.push(update.state); }
      if (update.files_changed !== undefined) {
        sets.push('files_changed = ?');
        params.push(typeof update.files_changed === 'number' && Number.isInteger(update.files_changed) ? update.files_changed : null);
      }
      if (sets.length === 0) return false;
      return stmt(`UPDATE sessions SET ${sets.join(', ')} WHERE id = ? AND worktree IS NOT NULL`).run(...params, String(id)).changes > 0;
    },
    get,
    list: (opts = {}) => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (opts.running === true) where.push('ended_at IS NULL');
      if (opts.running === false) where.push('ended_at IS NOT NULL');
      if (opts.persona !== undefined) { where.push('persona = ?'); params.push(String(opts.persona)); }
      if (opts.worktreeState !== undefined) { where.push('worktree_state = ?'); params.push(String(opts.worktreeState)); }
      const limit = opts.limit === undefined || !Number.isFinite(opts.limit) ? 1000 : Math.min(10_000, Math.max(1, Math.floor(opts.limit)));
      params.push(limit);
      const sql = `SELECT ${COLUMNS} FROM sessions${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}` +
        ' ORDER BY started_at DESC, id DESC LIMIT ?';
      return (stmt(sql).all(...params) as SessionRow[]).map(rowToSession);
    },
  };
}
