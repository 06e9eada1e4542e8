#!/usr/bin/env node
// Builds the sandbox's small native helpers (the seccomp filter, the exec logger, the remount helper) with the C
// compiler node-gyp already needs. Without it `personae run` refuses to start.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/native`;
mkdirSync(out, { recursive: true });
const cc = process.env.CC || 'cc';
// Each helper and its sources.
const helpers = {
  'personae-seccomp': ['personae-seccomp.c', 'listen-wait.c'],
  'personae-execlog': ['personae-execlog.c', 'execlog-target.c', 'execlog-rules.c', 'execlog-tripwire.c', 'execlog-text.c'],
  'personae-remount': ['personae-remount.c'],
};
for (const [name, sources] of Object.entries(helpers)) {
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', `${out}/${name}`, ...sources.map((s) => `${root}sandbox/native/${s}`)], { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    process.stderr.write(`personae: could not build ${name} with ${cc} (${r.error ? r.error.message : `exit ${r.status}`}); install a C compiler (apt-get install build-essential) and run npm run build\n`);
    process.exit(1);
  }
}
