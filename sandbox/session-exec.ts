// A session's exec side, made before the sandbox is spawned: the persona's
// command rules for the exec logger (and the FIFO asked execs are answered
// on), the denied-read tripwires over every hidden path, and the tracer that
// turns the logger's lines into exec, exec.exit and fs.read events.
import path from 'node:path';
import type { Persona } from '../personas/schema.js';
import type { EmitEvent } from './audit/event.js';
import { answerHeldExec, ExecAnswers, prepareExecRules, type PreparedExecRules } from './intercept/exec-decisions.js';
import { ExecTracer } from './intercept/exec-tracer.js';
import type { Approvals } from './intercept/approvals.js';
import { mountDests } from './launch/plan.js';
import { prepareTripwires, type PreparedTripwires } from './launch/tripwires.js';
import type { FilesystemPlan } from './policy/filesystem.js';

export interface ExecSideInput {
  readonly persona: Persona;
  readonly dir: string;
  readonly workspace: string;
  readonly userHome: string;
  readonly personaeHome: string;
  readonly personaHome: string;
  readonly env: NodeJS.ProcessEnv;
  readonly fs: { readonly plan: FilesystemPlan; readonly hidden: readonly string[] };
  /** What the agent adapter and a worktree add: PATH entries, read-only binds, git mounts (bwrap arguments). */
  readonly extraPath: readonly string[];
  readonly binds: readonly string[];
  readonly worktreeMounts: readonly string[];
  readonly emit: EmitEvent;
  readonly onFailure: (message: string) => void;
  /** The session's approvals and its tool calls a human approved (which cover the execs their rule holds). */
  readonly approvals: () => Approvals;
  readonly covering: (rule: string) => { readonly approval: string; readonly by: string } | undefined;
}

export interface ExecSide {
  readonly rules: PreparedExecRules | undefined;
  readonly answers: ExecAnswers | undefined;
  /** Undefined with PERSONAE_TRIPWIRES=off (the paths are hidden all the same; for comparisons and broken FUSE set-ups). */
  readonly tripwires: PreparedTripwires | undefined;
  readonly tracer: ExecTracer;
  /** The FIFOs the die-with-parent helper makes: the answers FIFO first, so once the exec log's exists, both do. */
  readonly fifos: readonly string[];
}

export function prepareExecSide(i: ExecSideInput): ExecSide {
  const rules = prepareExecRules(i.persona, i.dir, i.extraPath);
  const answers = rules === undefined ? undefined : new ExecAnswers(rules.answers);
  const tripwires = i.env.PERSONAE_TRIPWIRES === 'off' ? undefined : prepareTripwires(i.dir, {
    ctx: { workspace: i.workspace, userHome: i.userHome },
    personaeHome: i.personaeHome,
    hiddenDirs: i.fs.hidden,
    plan: i.fs.plan,
    personaHome: i.personaHome,
    binds: [...i.binds, ...mountDests(i.worktreeMounts)],
  });
  const tracer = new ExecTracer(path.join(i.dir, 'exec.fifo'), i.emit, i.onFailure, {
    rules: rules?.compiled.rules,
    tripwires: tripwires?.trips ?? [],
    onAsk: (held) => answerHeldExec({ persona: i.persona, approvals: i.approvals(), covering: i.covering }, held),
    reply: (id, decision) => answers?.reply(id, decision),
  });
  return { rules, answers, tripwires, tracer, fifos: [...(rules ? [rules.answers] : []), tracer.path] };
}
