#!/usr/bin/env node
// Builds the sandbox's small native helper (the seccomp filter) with the C
// compiler node-gyp already needs. Without it `personae run` refuses to start.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/native`;
mkdirSync(out, { recursive: true });
const cc = process.env.CC || 'cc';
const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', `${out}/personae-seccomp`, `${root}sandbox/native/personae-seccomp.c`], { stdio: 'inherit' });
if (r.error || r.status !== 0) {
  process.stderr.write(`personae: could not build the seccomp helper with ${cc} (${r.error ? r.error.message : `exit ${r.status}`}); install a C compiler (apt-get install build-essential) and run npm run build\n`);
  process.exit(1);
}
