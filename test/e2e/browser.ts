// End-to-end harness: Debian's Chromium driven by playwright-core against a
// real backend on loopback. Every wait is bounded; screenshots go to
// test-results/.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startApi, type ApiEnv } from '../integration/api-harness.js';
import { ROOT } from '../integration/harness.js';

export const CHROMIUM = process.env.PERSONAE_CHROMIUM ?? '/usr/bin/chromium';
export const RESULTS = path.join(ROOT, 'test-results');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface E2E {
  readonly env: ApiEnv;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Desktop notifications the page showed (title, body). */
  notifications(): Promise<Array<{ title: string; body: string }>>;
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Why e2e tests cannot run here, or undefined when they can. */
/**
 * Why the browser tests cannot run here. They are part of `npm test`: a missing
 * browser or UI build fails them loudly, unless PERSONAE_SKIP_E2E=1 says to
 * skip them on purpose (a developer machine without Chromium).
 */
export function e2eUnavailable(): string | undefined {
  let why: string | undefined;
  if (!existsSync(CHROMIUM)) why = `${CHROMIUM} not found (apt-get install -y chromium)`;
  else if (!existsSync(path.join(ROOT, 'dist', 'renderer', 'index.html'))) why = 'the UI is not built (npm run build)';
  if (why === undefined) return undefined;
  if (process.env.PERSONAE_SKIP_E2E === '1') return why;
  throw new Error(`browser tests cannot run: ${why}; set PERSONAE_SKIP_E2E=1 to skip them on purpose`);
}

export async function startE2E(): Promise<E2E> {
  const env = await startApi();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(15_000);
  await context.grantPermissions(['notifications'], { origin: env.b.url });
  // Record notifications instead of showing them (headless has no notification centre).
  await context.addInitScript(() => {
    const shown: Array<{ title: string; body: string }> = [];
    (window as unknown as { __notifications: typeof shown }).__notifications = shown;
    class Recorded {
      static permission = 'granted';
      static requestPermission = (): Promise<string> => Promise.resolve('granted');
      onclick: (() => void) | null = null;
      constructor(title: string, opts?: { body?: string }) {
        shown.push({ title, body: opts?.body ?? '' });
      }
      close(): void {}
    }
    (window as unknown as { Notification: unknown }).Notification = Recorded;
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Refused requests (401/422 answers the tests provoke) are expected; anything else is not.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  // The one-time link sets the HttpOnly cookie and lands on the app.
  await page.goto(env.b.loginUrl(), { timeout: 15_000 });
  await page.waitForSelector('text=live', { timeout: 15_000 });
  mkdirSync(RESULTS, { recursive: true });
  return {
    env,
    browser,
    context,
    page,
    notifications: () => page.evaluate(() => (window as unknown as { __notifications: Array<{ title: string; body: string }> }).__notifications),
    shot: async (name) => {
      const file = path.join(RESULTS, `${name}.png`);
      await page.screenshot({ path: file, timeout: 15_000 });
      return file;
    },
    close: async () => {
      await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 10_000))]);
      await env.close();
      if (errors.length > 0) process.stderr.write(`browser errors:\n${errors.join('\n')}\n`);
    },
  };
}
