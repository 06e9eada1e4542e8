#!/usr/bin/env node
// Bundles the CLI (from tsc's output in dist/) into dist/cli/ so a cold
// `personae` start loads a few files instead of hundreds of modules.
// Native modules stay external; lazily imported commands stay lazy (splitting).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist/cli`, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/main/cli.js`],
  outdir: `${root}dist/cli`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'node-pty', 'chokidar', 'esbuild'],
  banner: { js: "import { createRequire as __personaeRequire } from 'node:module'; const require = __personaeRequire(import.meta.url);" },
  // Smaller code parses faster on a cold start; names are kept for readable stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: 'warning',
});
