// The session's side of command rules decided at exec: the rules file the
// exec logger reads, the FIFO held (asked) execs are answered on, and how an
// asked exec is answered.
import { closeSync, openSync, realpathSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Persona } from '../../personas/schema.js';
import { BASE_PATH } from '../launch/plan.js';
import { compileExecRules, execRulesFile, namedPrograms, type CompiledExecRules, type ProgramRef } from '../policy/exec-rules.js';
import { ruleReason } from '../policy/tool-types.js';
import type { Approvals } from './approvals.js';
import type { HeldAnswer, HeldExec } from './exec-tracer.js';

/** Where else a program named by a rule lives under its own name (git's helpers run `git` from its exec path). */
const EXTRA_DIRS = ['/usr/lib/git-core', '/usr/libexec/git-core'];

function isExecutableFile(p: string): boolean {
  try {
    const st = statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Every file the sandbox's PATH (and git's exec path) has under each name, symlinks resolved: the logger knows these by identity. */
export function findProgramRefs(names: readonly string[], dirs: readonly string[]): ProgramRef[] {
  const refs: ProgramRef[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    for (const dir of [...dirs, ...EXTRA_DIRS]) {
      const p = path.join(dir, name);
      if (!isExecutableFile(p)) continue;
      let real: string;
      try {
        real = realpathSync(p);
      } catch {
        continue;
      }
      const key = `${name}\u0000${real}`;
      if (seen.has(key)) continue;
      seen.add(key);
      refs.push({ name, path: real });
    }
  }
  return refs;
}

export interface PreparedExecRules {
  readonly compiled: CompiledExecRules;
  /** The rules file (mode 0600, in the session's run directory). */
  readonly file: string;
  /** The FIFO held execs are answered on (made by the die-with-parent helper). */
  readonly answers: string;
}

/** Compiles the persona's command rules and writes the logger's rules file; undefined when there is no rule to decide at exec. */
export function prepareExecRules(persona: Persona, dir: string, extraPath: readonly string[] = []): PreparedExecRules | undefined {
  const compiled = compileExecRules(persona.tools);
  if (compiled.rules.length === 0) return undefined;
  const refs = findProgramRefs(namedPrograms(compiled), [...extraPath, ...BASE_PATH]);
  const file = path.join(dir, 'exec-rules');
  writeFileSync(file, execRulesFile(compiled, refs), { mode: 0o600 });
  return { compiled, file, answers: path.join(dir, 'exec-answers.fifo') };
}

/** The writing end of the answers FIFO (opened read-write, so the open never waits for the logger). */
export class ExecAnswers {
  private fd: number | undefined;

  constructor(readonly fifo: string) {}

  open(): void {
    this.fd ??= openSync(this.fifo, 'r+');
  }

  reply(id: string, decision: 'allow' | 'deny'): void {
    if (this.fd === undefined || !/^\d+$/.test(id)) return;
    try {
      writeSync(this.fd, `${decision === 'allow' ? 'a' : 'd'} ${id}\n`);
    } catch {
      // the logger is gone: the held exec went with it
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface AskContext {
  readonly persona: Persona;
  readonly approvals: Approvals;
  /**
   * A human's approval already covering this exec: an approved tool call,
   * still running, that was asked about because of the same rule.
   */
  covering(ruleSource: string): { readonly approval: string; readonly by: string } | undefined;
}

/**
 * How an exec an ask rule holds is answered: a running tool call a human
 * approved for the same rule covers it; otherwise in approve mode a human is
 * asked (the exec waits in the kernel, up to limits.approval_timeout), in
 * observe mode it runs with what approve mode would have done on the record,
 * and in autonomous mode, with nobody to ask, it is refused with the reason.
 */
export function answerHeldExec(ctx: AskContext, held: HeldExec): HeldAnswer {
  const asked = ruleReason('ask', held.rule.source);
  const cover = ctx.covering(held.rule.source);
  if (cover !== undefined) return { decision: 'allow', reason: `${asked} (approved by ${cover.by} with tool call approval ${cover.approval})` };
  if (ctx.persona.execution_mode === 'observe') {
    // Observe: what approve mode would ask about runs, and is on the record as such.
    return { decision: 'allow', reason: `execution_mode: observe (would ask: ${asked})`, detail: { would_be: 'ask', would_be_reason: asked, would_be_rule: held.rule.source } };
  }
  if (ctx.persona.execution_mode !== 'approve') {
    return { decision: 'deny', reason: `${asked} (execution_mode ${ctx.persona.execution_mode}: nobody is asked, so it is refused)` };
  }
  const { id, answer } = ctx.approvals.request(held.record.argv[0] ?? held.record.path, held.target, asked);
  return {
    decision: 'ask',
    reason: asked,
    answer: answer.then((a) => ({
      decision: a.decision,
      approval: id,
      reason: a.timedOut ? `no answer within limits.approval_timeout (${ctx.persona.limits.approval_timeout})` : `${a.decision === 'allow' ? 'approved' : 'denied'} by ${a.by}`,
    })),
  };
}
