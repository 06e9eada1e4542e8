// `personae persona list|validate` (install, suggest and diff: persona-share.ts).
import { isExpired, listPersonas, loadPersonaFile } from '../../personas/loader.js';
import { personasDir } from '../../personas/paths.js';
import { listSuspended } from '../../personas/suspended.js';
import { home } from './context.js';
import { info } from './output.js';

export function personaList(): number {
  const h = home();
  const suspended = listSuspended(h);
  const entries = listPersonas(h);
  if (entries.length === 0) {
    info(`no personas in ${personasDir(h)}; install a preset: personae persona install builder`);
    return 0;
  }
  let bad = 0;
  for (const e of entries) {
    if (!e.result.ok) {
      bad += 1;
      for (const err of e.result.errors) process.stdout.write(`invalid  ${err}\n`);
      continue;
    }
    const p = e.result.persona;
    const state = suspended.has(p.name) ? 'suspended' : isExpired(p) ? 'expired' : 'ready';
    const net = p.network.allow.length === 0 ? 'no network' : p.network.allow.join(',');
    const write = p.filesystem.write.length === 0 ? 'read-only' : p.filesystem.write.join(',');
    process.stdout.write(`${p.name.padEnd(20)} ${state.padEnd(9)} ${p.agent.padEnd(6)} owner=${p.owner}  write=${write}  net=${net}  ${p.execution_mode}\n`);
  }
  return bad === 0 ? 0 : 1;
}

export function personaValidate(files: readonly string[]): number {
  let bad = 0;
  for (const f of files) {
    const r = loadPersonaFile(f);
    if (r.ok) process.stdout.write(`${f}: ok (${r.persona.name})\n`);
    else {
      bad += 1;
      for (const err of r.errors) process.stderr.write(`${err}\n`);
    }
  }
  return bad === 0 ? 0 : 2;
}
