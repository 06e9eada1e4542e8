// Personas in the app (create and edit with errors on the field, export,
// import, suspend and resume), refused launches saying why, and the Stop all
// kill switch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../main/api/contract.js';
import { auditDbPath } from '../../personas/paths.js';
import { openAuditStore } from '../../sandbox/audit/store.js';
import { alive, freshWorkspace, raw } from '../integration/api-harness.js';
import { e2eUnavailable, startE2E, type E2E } from './browser.js';

const skip = e2eUnavailable();

describe.skipIf(skip !== undefined)('app: personas, refusals, stop all', () => {
  let t: E2E;
  beforeAll(async () => {
    t = await startE2E();
    t.env.h.writePersona({ name: 'reviewer', display_name: 'Code reviewer', agent: 'claude', purpose: 'Reviews pull requests', network: { allow: ['api.github.com'] }, credentials: { GITHUB_TOKEN: { secret: 'gh-review', hosts: ['api.github.com'] } }, tools: { deny: ['Bash(git push:*)'] } });
    t.env.h.writePersona({ name: 'old-timer', agent: 'shell', expires: '2020-01-31' });
    t.env.h.writePersona({ name: 'worker', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
  }, 60_000);
  afterAll(async () => t?.close(), 30_000);

  it('create with errors on the field, edit, export, import, suspend and resume', async () => {
    const { page } = t;
    await page.click('nav >> text=Personas');
    const reviewer = page.locator('.persona-card[data-persona="reviewer"]');
    await reviewer.waitFor();
    expect(await reviewer.textContent()).toContain('GITHUB_TOKEN ← gh-review');
    expect(await page.locator('.persona-card[data-persona="old-timer"] .badge:has-text("expired")').count()).toBe(1);
    await t.shot('e2e-personas');

    await page.click('text=New persona');
    await page.fill('input[name=name]', 'web-reader');
    await page.fill('input[name=display_name]', 'Web reader');
    await page.fill('input[name=owner]', 'me@example.com');
    await page.fill('textarea[name=purpose]', 'Reads documentation');
    await page.fill('textarea[name=network_allow]', '*.com');
    const fieldError = page.locator('[data-field="network_allow"] .field-error');
    await expect.poll(() => fieldError.textContent()).toBe('line 1: "*.com" is too broad');
    await page.fill('input[name=expires]', '2026-02-31');
    await expect.poll(() => page.locator('[data-field="expires"] .field-error').count()).toBe(1);
    await t.shot('e2e-persona-errors');
    await page.fill('input[name=expires]', '');
    await page.fill('textarea[name=network_allow]', 'docs.example.com');
    await expect.poll(() => fieldError.count()).toBe(0);
    await page.click('button:has-text("Save")');
    await page.waitForURL(/#\/personas\/web-reader$/);
    await page.waitForSelector('.persona-view >> text=docs.example.com');

    await page.click('.persona-view a:has-text("Edit")');
    await page.fill('textarea[name=purpose]', 'Reads documentation, nothing else');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('.persona-view >> text=Reads documentation, nothing else');

    const exportHref = await page.locator('.persona-view a:has-text("Export")').getAttribute('href');
    const exported = await t.context.request.get(`${t.env.b.url}${exportHref ?? ''}`);
    const yaml = await exported.text();
    expect(yaml).toContain('name: web-reader');

    await page.click('nav >> text=Personas');
    await page.setInputFiles('input[aria-label="Import persona file"]', {
      name: 'copied.yaml', mimeType: 'application/yaml', buffer: Buffer.from(yaml.replace('name: web-reader', 'name: web-copy')),
    });
    await page.waitForSelector('text=imported web-copy');
    await page.locator('.persona-card[data-persona="web-copy"]').waitFor();

    const card = page.locator('.persona-card[data-persona="web-reader"]');
    await card.locator('button:has-text("Suspend")').click();
    await card.locator('.badge:has-text("suspended")').waitFor();
    await page.click('nav >> text=Launch');
    await page.selectOption('select[name=persona]', 'web-reader');
    await page.fill('input[name=workspace]', freshWorkspace(t.env.h, 'refused'));
    await page.click('button:has-text("Launch")');
    const refusal = page.locator('.refusal');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/Persona suspended.*suspended; resume it/);
    await t.shot('e2e-refused');
    await page.click('nav >> text=Personas');
    await card.locator('button:has-text("Resume")').click();
    await card.locator('.badge:has-text("suspended")').waitFor({ state: 'detached' });
  }, 90_000);

  it('refused launches say why: expired, missing secret', async () => {
    const { page } = t;
    for (const [persona, title, text] of [
      ['old-timer', 'Persona expired', 'expired on 2020-01-31'],
      ['reviewer', 'Missing secret', 'personae secret set gh-review'],
    ] as const) {
      await page.goto(`${t.env.b.url}/#/launch/${persona}`);
      await page.fill('input[name=workspace]', freshWorkspace(t.env.h, `r-${persona}`));
      await page.click('button:has-text("Launch")');
      const refusal = page.locator('.refusal');
      await expect.poll(() => refusal.textContent()).toContain(title);
      expect(await refusal.textContent()).toContain(text);
    }
  }, 60_000);

  it('Stop all stops every running session, each verified', async () => {
    const { page } = t;
    const launch = async (n: string): Promise<SessionInfo> =>
      (await raw(t.env.b, '/api/sessions', { body: { persona: 'worker', workspace: freshWorkspace(t.env.h, n), command: ['sh', '-c', 'sleep 600 & sleep 600'] } })).json<SessionInfo>();
    const sessions = [await launch('w1'), await launch('w2')];
    await page.click('nav >> text=Sessions');
    await expect.poll(() => page.locator('[data-testid=running-count]').textContent()).toBe('2 running');
    await page.click('button[aria-label="Stop all sessions"]');
    await page.waitForSelector('text=2 stopped, verified');
    for (const s of sessions) {
      await page.waitForSelector(`.session-row[data-session="${s.id}"] [data-testid=session-state]:has-text("stopped · verified")`);
      expect(alive(s.sandbox_pid as number)).toBe(false);
    }
    expect(await page.locator('[data-testid=running-count]').textContent()).toBe('0 running');
    await t.shot('e2e-stop-all');
  }, 60_000);

  it('the feed shows the newest events and pages older ones in from the database', async () => {
    const { page } = t;
    const writer = openAuditStore(auditDbPath(t.env.h.home));
    const labels = { session: 'c0000000-0000-4000-8000-000000000000', persona: 'bulk', agent: { kind: 'shell', version: null }, on_behalf_of: 'me' };
    for (let i = 0; i < 1500; i++) writer.append(labels, { kind: 'exec', tool: 'make', target: `step ${i}` });
    writer.close();
    await page.click('nav >> text=Sessions');
    await page.selectOption('select[aria-label="Filter by persona"]', { label: 'all' });
    await page.fill('input[aria-label="Search events"]', 'step');
    const count = page.locator('[data-testid=feed-count]');
    await expect.poll(() => count.textContent()).toBe('500 events');
    await page.locator('.feed-row[data-id] >> text=step 1499').waitFor();
    for (let i = 0; i < 20 && (await count.textContent()) !== '1,500 events'; i++) {
      await page.locator('[data-testid=feed-scroll]').evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      });
      await page.waitForTimeout(150);
    }
    expect(await count.textContent()).toBe('1,500 events');
    await page.locator('[data-testid=feed-scroll]').evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.locator('.feed-row[data-id] >> text=step 0').waitFor();
  }, 60_000);
});
