#!/usr/bin/env node
// Bundles the CLI (from tsc's output in dist/) into one CommonJS script,
// dist/cli/cli.cjs, and makes a V8 code cache for it (dist/cli/cli.cjs.cache)
// so a cold `personae` start neither resolves hundreds of modules nor parses
// and compiles a megabyte of JavaScript. bin/personae.cjs runs the script with
// the cache; V8 rejects a cache that does not match (another Node, other
// flags) and then simply compiles. better-sqlite3's JavaScript is bundled too
// (its addon is loaded by path, see sandbox/audit/store.ts); node-pty stays
// external.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist/cli`, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/main/cli.js`],
  outfile: `${root}dist/cli/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['node-pty', 'esbuild'],
  // Modules find the package folder from their own URL; in the bundle that is the bundle's.
  define: { 'import.meta.url': '__personae_url' },
  banner: { js: "var __personae_url = require('node:url').pathToFileURL(__filename).href;" },
  // Smaller code parses faster; identifiers are not minified, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

// The cache holds what a typical start compiles. Best is one real session (`personae run shell -- true`
// in a throw-away PERSONAE_HOME): it compiles the whole launch path. Where the sandbox cannot run
// (no bwrap yet, no user namespaces), the CLI parsing and validating a persona file is the next best.
const warmUp = (args, env) =>
  spawnSync(process.execPath, [`${root}bin/personae.cjs`, ...args], {
    env: { ...env, PERSONAE_BUILD_CODE_CACHE: '1' },
    stdio: 'ignore',
    timeout: 30_000,
  }).status === 0;
const baseEnv = { ...process.env };
delete baseEnv.PERSONAE_DEBUG;
const tmp = mkdtempSync(path.join(tmpdir(), 'personae-build-'));
let warmed;
try {
  mkdirSync(path.join(tmp, 'home', 'personas'), { recursive: true });
  mkdirSync(path.join(tmp, 'ws'));
  copyFileSync(`${root}personas/presets/shell.yaml`, path.join(tmp, 'home', 'personas', 'shell.yaml'));
  warmed = warmUp(['run', 'shell', '--workspace', path.join(tmp, 'ws'), '--no-tty', '--', 'true'], { ...baseEnv, PERSONAE_HOME: path.join(tmp, 'home') });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (!warmed) warmed = warmUp(['persona', 'validate', `${root}personas/presets/shell.yaml`], baseEnv);
if (!warmed || !existsSync(`${root}dist/cli/cli.cjs.cache`)) {
  process.stderr.write('personae: could not make the code cache (the CLI still works, it starts slower)\n');
}
