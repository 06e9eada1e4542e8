#!/usr/bin/env node
// Bundles the CLI (from tsc's output in dist/) into one CommonJS script,
// dist/cli/cli.cjs, and makes a V8 code cache for it (dist/cli/cli.cjs.cache)
// so a cold `personae` start neither resolves hundreds of modules nor parses
// and compiles a megabyte of JavaScript. bin/personae.js runs the script with
// the cache; V8 rejects a cache that does not match (another Node, other
// flags) and then simply compiles. Native modules and chokidar stay external.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
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
  external: ['better-sqlite3', 'node-pty', 'chokidar', 'esbuild'],
  // Modules find the package folder from their own URL; in the bundle that is the bundle's.
  define: { 'import.meta.url': '__personae_url' },
  banner: { js: "var __personae_url = require('node:url').pathToFileURL(__filename).href;" },
  // Smaller code parses faster; identifiers are not minified, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

// The cache holds what a typical start compiles: the CLI parses and validates a persona file.
const warm = spawnSync(process.execPath, [`${root}bin/personae.js`, 'persona', 'validate', `${root}personas/presets/shell.yaml`], {
  env: { ...process.env, PERSONAE_BUILD_CODE_CACHE: '1' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (warm.status !== 0 || !existsSync(`${root}dist/cli/cli.cjs.cache`)) {
  process.stderr.write('personae: could not make the code cache (the CLI still works, it starts slower)\n');
}
