// UI benchmark, in Chromium against the real backend:
// - latency: events appended to the audit database by another writer (as a
//   `personae run` process does) at `rate` events/s; for each, the time until
//   the live feed on screen has caught up to it (the newest row rendered is
//   that event or a later one), measured at the animation frame after the
//   DOM changed. Median and p99.
// - frames: with `loaded` events in the feed's buffer, the frame time while
//   the feed scrolls continuously (and while they stream in).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { startBackend } from '../../main/server/server.js';
import { auditDbPath } from '../../personas/paths.js';
import type { SessionLabels } from '../../sandbox/audit/event.js';
import { openAuditStore, type AuditStore } from '../../sandbox/audit/store.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface UiBenchOptions {
  /** Events per second during the latency phase (default 2000). */
  readonly rate?: number;
  /** Length of the latency phase (default 5000 ms). */
  readonly durationMs?: number;
  /** Events in the feed for the frame-time phase (default 100000). */
  readonly loaded?: number;
  /** How long to scroll while measuring frames (default 3000 ms). */
  readonly scrollMs?: number;
  readonly chromium?: string;
}

export interface Stats {
  readonly samples: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface UiBenchResult {
  readonly latency: Stats & { readonly rate: number; readonly events: number; readonly achievedRate: number };
  readonly frames: {
    readonly loaded: number;
    readonly ingest: Stats;
    readonly scroll: Stats & { readonly p95Ms: number; readonly fps: number };
  };
}

function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { samples: s.length, medianMs: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(s[s.length - 1] ?? 0) };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const LABELS: SessionLabels = { session: 'b0000000-0000-4000-8000-000000000000', persona: 'bench', agent: { kind: 'shell', version: null }, on_behalf_of: 'bench' };

function append(store: AuditStore, n: number, i: number): string {
  return store.append(LABELS, { kind: 'exec', tool: 'node', target: `bench event ${i}`, decision: i % 50 === 0 ? 'deny' : null, reason: null, detail: { n } }).id;
}

/** In the page: each frame, the newest row on screen (its id) and when. */
async function watchNewest(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __newest: Array<[string, number]>; __frames: number[]; __stopFrames?: boolean };
    w.__newest = [];
    w.__frames = [];
    let last = '';
    let prev = performance.now();
    const tick = (): void => {
      const now = performance.now();
      w.__frames.push(now - prev);
      prev = now;
      const rows = document.querySelectorAll('.feed-scroll .feed-row[data-id]');
      const id = rows.length > 0 ? (rows[rows.length - 1] as HTMLElement).dataset.id ?? '' : '';
      if (id !== last) {
        last = id;
        w.__newest.push([id, Date.now()]);
      }
      if (!w.__stopFrames) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

export async function benchUi(opts: UiBenchOptions = {}): Promise<UiBenchResult> {
  const rate = opts.rate ?? 2000;
  const durationMs = opts.durationMs ?? 5000;
  const loaded = opts.loaded ?? 100_000;
  const dir = mkdtempSync(path.join(tmpdir(), 'personae-uibench-'));
  const home = path.join(dir, 'home');
  mkdirSync(path.join(home, 'personas'), { recursive: true });
  writeFileSync(path.join(home, 'personas', 'bench.yaml'), 'version: 1\nname: bench\ndisplay_name: Bench\nowner: bench\npurpose: benchmark\nagent: shell\n');
  const writer = openAuditStore(auditDbPath(home));
  append(writer, 0, -1);
  writer.flush();
  const backend = await startBackend({ home, rendererDir: path.join(ROOT, 'dist', 'renderer'), onBehalfOf: userInfo().username, workspace: dir, version: 'bench' });
  const browser = await chromium.launch({ executablePath: opts.chromium ?? process.env.PERSONAE_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ARGS, timeout: 30_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(30_000);
    await page.goto(backend.loginUrl());
    await page.waitForSelector('text=live');
    await page.waitForSelector('[data-testid=feed-count]');
    await watchNewest(page);

    // Phase 1: latency at `rate` events/s, written by another store (like `personae run`).
    const sent: Array<[string, number]> = [];
    const start = Date.now();
    let i = 0;
    while (Date.now() - start < durationMs) {
      const due = Math.floor(((Date.now() - start) / 1000) * rate);
      while (i < due) sent.push([append(writer, 1, i++), Date.now()]);
      await sleep(2);
    }
    const achievedRate = Math.round(i / ((Date.now() - start) / 1000));
    writer.flush();
    const lastId = sent[sent.length - 1]?.[0] ?? '';
    await page.waitForFunction((id) => (window as unknown as { __newest: Array<[string, number]> }).__newest.some(([x]) => x >= id), lastId, { timeout: 30_000 });
    const newest = await page.evaluate(() => (window as unknown as { __newest: Array<[string, number]> }).__newest);
    const latencies: number[] = [];
    let k = 0;
    for (const [id, at] of sent) {
      while (k < newest.length && (newest[k]?.[0] ?? '') < id) k++;
      const seen = newest[k];
      if (seen) latencies.push(Math.max(0, seen[1] - at));
    }

    // Phase 2: `loaded` events stream into the feed (frame times while they do), then scroll through them.
    await page.evaluate(() => {
      (window as unknown as { __frames: number[] }).__frames = [];
    });
    for (let n = 0; n < loaded; n++) {
      append(writer, 2, n);
      if (n % 5000 === 4999) {
        writer.flush();
        await sleep(20);
      }
    }
    writer.flush();
    const expected = loaded;
    await page.waitForFunction((want) => {
      const t = document.querySelector('[data-testid=feed-count]')?.textContent ?? '';
      return Number(t.replace(/[^0-9]/g, '')) >= want;
    }, expected, { timeout: 120_000 });
    const ingest = await page.evaluate(() => (window as unknown as { __frames: number[] }).__frames.slice(1));
    const scroll = await page.evaluate(async (ms) => {
      const el = document.querySelector('.feed-scroll') as HTMLElement;
      const frames: number[] = [];
      const t0 = performance.now();
      let prev = t0;
      el.scrollTop = 0;
      await new Promise<void>((resolve) => {
        const step = (): void => {
          const now = performance.now();
          frames.push(now - prev);
          prev = now;
          // Fling through the list: ~80 rows per frame, wrapping around.
          el.scrollTop = (el.scrollTop + 2000) % Math.max(1, el.scrollHeight - el.clientHeight);
          if (now - t0 < ms) requestAnimationFrame(step);
          else resolve();
        };
        requestAnimationFrame(step);
      });
      return frames.slice(1);
    }, opts.scrollMs ?? 3000);
    const s = stats(scroll);
    const sorted = [...scroll].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(0.95 * sorted.length)] ?? 0;
    const count = await page.locator('[data-testid=feed-count]').textContent();
    return {
      latency: { ...stats(latencies), rate, events: sent.length, achievedRate },
      frames: {
        loaded: Number((count ?? '').replace(/[^0-9]/g, '')),
        ingest: stats(ingest),
        scroll: { ...s, p95Ms: round(p95), fps: round(1000 / (scroll.reduce((a, b) => a + b, 0) / Math.max(1, scroll.length))) },
      },
    };
  } finally {
    await Promise.race([browser.close(), sleep(10_000)]);
    await backend.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  void benchUi().then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`));
}
