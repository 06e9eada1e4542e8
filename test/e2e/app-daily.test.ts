// The app as a daily driver, in Chromium against the real backend: a browser
// without the one-time link gets a sign-in screen; saving a persona keeps the
// file's comments; the feed at 900 px keeps target, decision and reason, and a
// row opens into a detail pane (full target, JSON, neighbours); the morning
// review groups identical denials and shows each session's command and exit
// code; chips never share a colour; Stop all is calm and disabled with nothing
// running; the launch form's workspace says where its default comes from.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshWorkspace } from '../integration/api-harness.js';
import { CHROMIUM, e2eUnavailable, RESULTS, startE2E, type E2E } from './browser.js';

const skip = e2eUnavailable();

/** The hue the chips used to get (hash of the name, mod 360): two names that collided there. */
function oldHue(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) % 360;
}
function collidingNames(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const name = `bot-${i}`;
    const hit = seen.get(oldHue(name));
    if (hit !== undefined) return [hit, name];
    seen.set(oldHue(name), name);
  }
}

const PERSONA_FILE = `# yaml-language-server: $schema=../persona.schema.json
# Docs writer: keeps the handbook current. Ask Ana before widening its grants.
version: 1
name: docs-writer
display_name: "Docs writer"  # shown in the app
owner: ana@example.com
purpose: Writes the handbook

agent: shell
execution_mode: autonomous
filesystem:
  # only the docs folder
  write:
    - '{workspace}/docs'   # not the code
network:
  allow: [registry.npmjs.org]
`;

describe.skipIf(skip !== undefined)('app: a daily driver', () => {
  let t: E2E;
  const agent = { kind: 'shell', version: null };
  beforeAll(async () => {
    t = await startE2E();
  }, 60_000);
  afterAll(async () => t?.close(), 30_000);

  it('without the one-time link: a sign-in screen that says how to get one', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'], timeout: 30_000 });
    try {
      const page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
      await page.goto(t.env.b.url, { timeout: 15_000 });
      await page.locator('h1:has-text("Sign in to personae")').waitFor({ timeout: 15_000 });
      expect(await page.locator('.sign-in pre').textContent()).toBe('personae app');
      expect(await page.locator('text=No sessions yet').count()).toBe(0);
      expect(await page.locator('nav').count()).toBe(0);
      await page.screenshot({ path: path.join(RESULTS, 'e2e-sign-in.png') });
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('saving a persona keeps its comments, order and header: only the changed line changes', async () => {
    const { page } = t;
    const file = path.join(t.env.h.home, 'personas', 'docs-writer.yaml');
    writeFileSync(file, PERSONA_FILE);
    await page.goto(`${t.env.b.url}/#/personas/docs-writer/edit`);
    await page.locator('textarea[name=purpose]').waitFor();
    expect(await page.inputValue('textarea[name=purpose]')).toBe('Writes the handbook');
    await page.fill('textarea[name=purpose]', 'Writes and proofreads the handbook');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('.persona-view >> text=Writes and proofreads the handbook');
    expect(readFileSync(file, 'utf8')).toBe(PERSONA_FILE.replace('purpose: Writes the handbook', 'purpose: Writes and proofreads the handbook'));

    // A list item added: still every comment and the header.
    await page.goto(`${t.env.b.url}/#/personas/docs-writer/edit`);
    await page.fill('textarea[name=network_allow]', 'registry.npmjs.org\ndocs.example.com');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('.persona-view >> text=docs.example.com');
    const after = readFileSync(file, 'utf8');
    for (const line of ['# yaml-language-server: $schema=../persona.schema.json', '# Docs writer: keeps the handbook current.', '# shown in the app', '# only the docs folder', '# not the code']) {
      expect(after).toContain(line);
    }
    expect(after.indexOf('name:')).toBeLessThan(after.indexOf('agent:'));
    expect(after).toMatch(/allow: \[ ?registry\.npmjs\.org, docs\.example\.com ?\]/);
  }, 60_000);

  it('the feed at 900 px keeps target, decision and reason; a row opens its detail and its context', async () => {
    const { page } = t;
    const [a, b] = collidingNames();
    const session = 'd0000000-0000-4000-8000-000000000001';
    const labels = { session, persona: a, agent, on_behalf_of: 'me' };
    const long = `https://tracker.example.net/collect?payload=${'x'.repeat(120)}&end=1`;
    t.env.b.store.append(labels, { kind: 'exec', tool: 'curl', target: 'curl -s tracker.example.net', decision: 'allow', reason: 'no command rule' });
    t.env.b.store.append(labels, { kind: 'net.connect', tool: 'curl', target: long, decision: 'deny', reason: 'network.allow: tracker.example.net is not listed', detail: { protocol: 'http' } });
    t.env.b.store.append(labels, { kind: 'exec.exit', tool: 'curl', target: 'curl', detail: { code: 7 } });
    t.env.b.store.append({ ...labels, session: 'd0000000-0000-4000-8000-000000000002', persona: b }, { kind: 'exec', tool: 'ls', target: 'ls -la', decision: 'allow', reason: 'no command rule' });
    t.env.b.store.flush();

    await page.setViewportSize({ width: 900, height: 800 });
    await page.goto(`${t.env.b.url}/#/`);
    const row = page.locator('.feed-row[data-kind="net.connect"]').first();
    await row.waitFor();
    const width = async (sel: string): Promise<number> => (await row.locator(sel).boundingBox())?.width ?? 0;
    expect(await width('.c-target')).toBeGreaterThan(150);
    expect(await width('.c-decision')).toBeGreaterThan(40);
    expect(await width('.c-reason')).toBeGreaterThan(80);
    expect(await row.locator('.c-decision').textContent()).toBe('denied');
    expect(await row.locator('.c-target').getAttribute('title')).toContain(long);
    // Two personas whose names used to give one colour get two.
    const hueA = await page.locator(`.feed-row .chip[data-persona="${a}"]`).first().getAttribute('data-hue');
    const hueB = await page.locator(`.feed-row .chip[data-persona="${b}"]`).first().getAttribute('data-hue');
    expect(hueA).not.toBe(hueB);
    await t.shot('e2e-feed-900');
    // Narrower still: the kind moves into the target cell, the tool column goes; target, decision, reason stay.
    await page.setViewportSize({ width: 640, height: 800 });
    await expect.poll(() => width('.c-tool')).toBe(0);
    expect(await width('.c-target')).toBeGreaterThan(120);
    expect(await width('.c-decision')).toBeGreaterThan(40);
    expect(await width('.c-reason')).toBeGreaterThan(60);
    expect(await row.locator('.c-target').textContent()).toBe(long);
    await t.shot('e2e-feed-640');
    await page.setViewportSize({ width: 900, height: 800 });

    await row.click();
    const detail = page.locator('[data-testid=event-detail]');
    await detail.waitFor();
    expect(await detail.locator('[data-testid=detail-target]').textContent()).toBe(long);
    const json = JSON.parse((await detail.locator('[data-testid=event-json]').textContent()) ?? '{}') as { id: string; detail: unknown; reason: string };
    expect(json.id).toBe(await row.getAttribute('data-id'));
    expect(json.detail).toEqual({ protocol: 'http' });
    const context = detail.locator('[data-testid=event-context] .context-row');
    await expect.poll(() => context.count()).toBe(3);
    expect(await detail.locator('.context-row.is-current').textContent()).toContain('net.connect');
    await t.shot('e2e-feed-detail');
    await context.first().locator('button').click();
    await expect.poll(() => detail.getAttribute('data-id')).not.toBe(json.id);
    expect(await detail.locator('strong').textContent()).toBe('exec');
    await page.setViewportSize({ width: 1440, height: 900 });
  }, 60_000);

  it('the morning review groups identical denials; sessions show their command and exit code; 0 denied is not red', async () => {
    const { page } = t;
    const id = 'e0000000-0000-4000-8000-000000000001';
    const workspace = freshWorkspace(t.env.h, 'night');
    t.env.b.store.upsertSession({ id, persona: 'night-owl', agent, on_behalf_of: 'me', workspace, command: ['npm', 'test'], supervisor_pid: null, sandbox_pid: null });
    const labels = { session: id, persona: 'night-owl', agent, on_behalf_of: 'me' };
    for (let i = 0; i < 36; i++) t.env.b.store.append(labels, { kind: 'net.connect', target: 'telemetry.example.com:443', decision: 'deny', reason: 'network.allow: not listed' });
    t.env.b.store.append(labels, { kind: 'net.connect', target: 'registry.npmjs.org:443', decision: 'allow', reason: 'network.allow: registry.npmjs.org' });
    t.env.b.store.append(labels, { kind: 'exec', target: 'rm -rf /', decision: 'deny', reason: 'tools.deny: Bash(rm -rf:*)' });
    t.env.b.store.endSession(id, { exit_code: 3, end_reason: 'exit' });
    t.env.b.store.flush();

    await page.click('nav >> text=Morning review');
    const review = page.locator('.review-persona[data-persona="night-owl"]');
    await review.waitFor();
    expect(await review.locator('.stat:has-text("denials") b').textContent()).toBe('37');
    const groups = review.locator('.denied-group');
    expect(await groups.count()).toBe(2);
    expect(await groups.first().getAttribute('data-count')).toBe('36');
    expect(await groups.first().textContent()).toMatch(/^36×.*net\.connect telemetry\.example\.com:443/);
    await review.locator('summary:has-text("Sessions")').click();
    const s = review.locator(`.review-session[data-session="${id}"]`);
    expect(await s.locator('.review-command').textContent()).toBe('npm test');
    expect(await s.textContent()).toContain('exit 3');
    await review.locator('summary:has-text("Network destinations")').click();
    const npm = review.locator('li:has-text("registry.npmjs.org:443")');
    const zero = npm.locator('span:has-text("0 denied")');
    expect(await zero.getAttribute('class')).toBe('muted');
    const colour = await zero.evaluate((el) => getComputedStyle(el).color);
    expect(colour).not.toBe('rgb(180, 35, 24)');
    await t.shot('e2e-review-grouped');
  }, 60_000);

  it('Stop all is calm and disabled with nothing running; the launch form says where its workspace comes from', async () => {
    const { page } = t;
    await page.click('nav >> text=Sessions');
    await expect.poll(() => page.locator('[data-testid=running-count]').textContent()).toBe('0 running');
    const stopAll = page.locator('button[aria-label="Stop all sessions"]');
    expect(await stopAll.isDisabled()).toBe(true);
    expect(await stopAll.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(255, 255, 255)');

    await page.click('nav >> text=Launch');
    const note = page.locator('[data-testid=workspace-note]');
    await expect.poll(() => note.textContent()).toMatch(/last session/);
    // The last session recorded is the review's (its workspace exists): not the app's own checkout.
    expect(await page.inputValue('input[name=workspace]')).toMatch(/night$/);
    expect(await page.inputValue('input[name=workspace]')).not.toBe(process.cwd());
  }, 60_000);
});
