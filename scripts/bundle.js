#!/usr/bin/env node
// Bundles the CLI (from tsc's output in dist/) into one CommonJS script,
// dist/cli/cli.cjs, and makes a V8 code cache for it (dist/cli/cli.cjs.cache)
// so a cold `personae` start neither resolves hundreds of modules nor parses
// and compiles a megabyte of JavaScript. bin/personae.cjs runs the script with
// the cache; V8 rejects a cache that does not match (another Node, other
// flags) and then simply compiles. better-sqlite3's JavaScript is bundled too
// (its addon is loaded by path, see sandbox/audit/store.ts); node-pty stays
// external, and so does the OpenTelemetry SDK: only `personae export` (and the
// exporter `serve` starts) loads it, from node_modules, so it adds nothing to
// the bundle every `personae run` parses; so do the session CA's X.509
// libraries (only a session terminating TLS loads them).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
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
  // The session CA's X.509 libraries load only for a session that terminates TLS (sandbox/net/session-ca.ts,
  // imported dynamically): kept out of the bundle every start reads, like the OpenTelemetry SDK.
  external: ['node-pty', 'esbuild', '@opentelemetry/*', '@peculiar/*', 'asn1js', 'pvutils', 'tslib'],
  // Modules find the package folder from their own URL; in the bundle that is the bundle's.
  define: { 'import.meta.url': '__personae_url' },
  banner: { js: "var __personae_url = require('node:url').pathToFileURL(__filename).href;" },
  // Smaller code parses faster; identifiers are not minified, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

// The cache holds what a typical start compiles. Best is one real session in a throw-away
// PERSONAE_HOME that makes one allowed HTTP request through the proxy (to a server here, with
// curl when there is one): it compiles the whole launch path and the proxy's. Where the sandbox
// cannot run (no bwrap yet, no user namespaces), the CLI validating a persona file is the next best.
const warmUp = (args, env) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}bin/personae.cjs`, ...args], {
      env: { ...env, PERSONAE_BUILD_CODE_CACHE: '1' },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', () => resolve(false));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
const onPath = (name) => (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(path.join(d, name)));
const WARM_PERSONA = [
  'version: 1',
  'name: warm',
  'display_name: Build warm-up',
  'owner: personae build',
  "purpose: Warms the CLI's code cache with one real session.",
  'agent: shell',
  'execution_mode: autonomous',
  'filesystem:',
  '  write: ["{workspace}"]',
  '  read_deny: ["~/.ssh", "~/.aws", "~/.gnupg"]',
  'network:',
  '  allow: ["warmup.test"]',
  '',
].join('\n');
const baseEnv = { ...process.env };
delete baseEnv.PERSONAE_DEBUG;
const tmp = mkdtempSync(path.join(tmpdir(), 'personae-build-'));
const server = createServer((_req, res) => res.end('ok'));
let warmed;
try {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  mkdirSync(path.join(tmp, 'home', 'personas'), { recursive: true });
  mkdirSync(path.join(tmp, 'ws'));
  writeFileSync(path.join(tmp, 'home', 'personas', 'warm.yaml'), WARM_PERSONA);
  const command = onPath('curl') ? ['curl', '-sS', '-o', '/dev/null', '--max-time', '10', 'http://warmup.test/'] : ['true'];
  warmed = await warmUp(['run', 'warm', '--workspace', path.join(tmp, 'ws'), '--no-tty', '--', ...command], {
    ...baseEnv,
    PERSONAE_HOME: path.join(tmp, 'home'),
    PERSONAE_HOSTS: `warmup.test=127.0.0.1:${server.address().port}`,
  });
} finally {
  server.close();
  rmSync(tmp, { recursive: true, force: true });
}
if (!warmed) warmed = await warmUp(['persona', 'validate', `${root}personas/presets/shell.yaml`], baseEnv);
if (!warmed || !existsSync(`${root}dist/cli/cli.cjs.cache`)) {
  process.stderr.write('personae: could not make the code cache (the CLI still works, it starts slower)\n');
}
