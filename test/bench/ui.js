// Section 7: the desktop UI in Debian Chromium against the real backend:
// event-to-screen latency under 2,000 events/s, and frame times with 100,000
// events in the feed (benchUi() from test/bench/ui-bench.ts, bundled at run time).
import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib.js';

async function loadBenchUi() {
  const src = path.join(ROOT, 'test', 'bench', 'ui-bench.ts');
  if (!existsSync(src)) return undefined;
  const { build } = await import('esbuild');
  // Beside its source: ui-bench.ts finds the built UI relative to its own file.
  const outfile = path.join(ROOT, 'test', 'bench', `.ui-bench-${process.pid}.mjs`);
  try {
    await build({ entryPoints: [src], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'error' });
    return (await import(`${pathToFileURL(outfile).href}?t=${statSync(outfile).mtimeMs}`)).benchUi;
  } finally {
    rmSync(outfile, { force: true });
  }
}

export async function benchUiSection({ quick = false, log = () => undefined } = {}) {
  const result = { errors: [], notes: [] };
  const chromium = process.env.PERSONAE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    result.errors.push(`${chromium} not found (apt-get install -y chromium): no UI figures`);
    return result;
  }
  if (!existsSync(path.join(ROOT, 'dist', 'renderer', 'index.html'))) {
    result.errors.push('the UI is not built (npm run build)');
    return result;
  }
  const benchUi = await loadBenchUi();
  if (benchUi === undefined) {
    result.errors.push('test/bench/ui-bench.ts not found: no UI figures');
    return result;
  }
  const r = await benchUi(quick ? { rate: 2000, durationMs: 2000, loaded: 20_000, scrollMs: 1000 } : { rate: 2000, durationMs: 5000, loaded: 100_000, scrollMs: 3000 });
  result.ui = r;
  log(`  event-to-screen at ${r.latency.achievedRate}/s: median ${r.latency.medianMs} ms, p99 ${r.latency.p99Ms} ms; frames with ${r.frames.loaded} events: median ${r.frames.scroll.medianMs} ms, p99 ${r.frames.scroll.p99Ms} ms`);
  return result;
}
