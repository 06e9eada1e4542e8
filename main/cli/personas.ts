// `personae persona list|validate` (install, suggest and diff: persona-share.ts).
import { isExpired, listPersonas, loadPersonaFile } from '../../personas/loader.js';
import { personasDir } from '../../personas/paths.js';
import { listSuspended } from '../../personas/suspended.js';
import { compileExecRules } from '../../sandbox/policy/exec-rules.js';
import { home } from './context.js';
import { info } from './output.js';
import { alignedTable } from './table.js';

export function personaList(): number {
  const h = home();
  const suspended = listSuspended(h);
  const entries = listPersonas(h);
  if (entries.length === 0) {
    info(`no personas in ${personasDir(h)}; install a preset: personae persona install builder`);
    return 0;
  }
  const rows = [['NAME', 'STATE', 'AGENT', 'MODE', 'OWNER', 'WRITE', 'NETWORK']];
  const invalid: string[] = [];
  for (const e of entries) {
    if (!e.result.ok) {
      invalid.push(...e.result.errors);
      continue;
    }
    const p = e.result.persona;
    const state = suspended.has(p.name) ? 'suspended' : isExpired(p) ? 'expired' : 'ready';
    const net = p.network.allow.length === 0 ? 'none' : p.network.allow.join(', ');
    const write = p.filesystem.write.length === 0 ? 'read-only' : p.filesystem.write.join(', ');
    rows.push([p.name, state, p.agent, p.execution_mode, p.owner, write, net]);
  }
  if (rows.length > 1) process.stdout.write(`${alignedTable(rows)}\n`);
  // Files that do not load, each problem on its own line after the table.
  for (const err of invalid) process.stdout.write(`invalid: ${err}\n`);
  return invalid.length === 0 ? 0 : 1;
}

export function personaValidate(files: readonly string[]): number {
  let bad = 0;
  for (const f of files) {
    const r = loadPersonaFile(f);
    if (r.ok) {
      process.stdout.write(`${f}: ok (${r.persona.name})\n`);
      // Command rules the exec logger cannot decide hold only in agent hooks: a shell agent has none.
      if (r.persona.agent === 'shell') {
        for (const w of compileExecRules(r.persona.tools).toolLayerOnly) process.stderr.write(`${f}: warning: ${w}, and agent shell has no tool layer: this rule has no effect\n`);
      }
    } else {
      bad += 1;
      for (const err of r.errors) process.stderr.write(`${err}\n`);
    }
  }
  return bad === 0 ? 0 : 2;
}
