// The app end to end, in Chromium, against the real backend and a real
// sandboxed session: launch a persona running a scripted agent, watch its
// terminal and its events (labelled with the persona, a denied call marked
// denied), answer its approval, stop it and check from outside that every
// process is gone, then read the morning review.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, freshWorkspace, processesWithArgv, until } from '../integration/api-harness.js';
import { ROOT } from '../integration/harness.js';
import { e2eUnavailable, startE2E, type E2E } from './browser.js';

const HOOK_PAYLOAD = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'git push origin main' }, tool_use_id: 'toolu_e2e' });
/** The scripted agent: writes a file, runs commands, tries a denied request, asks to push, then works (sleeps). */
const AGENT = [
  'echo "agent: starting work"',
  'echo "draft" > notes.md',
  'ls -la',
  'uname -s',
  'curl -s -m 3 http://tracker.example.net/collect || echo "agent: network refused"',
  `printf '%s' '${HOOK_PAYLOAD}' | /run/personae/hooks/personae-hook PreToolUse >/dev/null 2>&1 && echo "agent: push approved" || echo "agent: push denied"`,
  'sleep 4242 & sleep 4242',
].join('; ');

/** Processes in the pid namespace `ns`, from /proc; zombies (exited, not yet reaped) only when asked. */
function inNamespace(ns: string, withZombies = false): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) !== ns) return false;
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      return withZombies || !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return false;
    }
  });
}

const skip = e2eUnavailable();

describe.skipIf(skip !== undefined)('app: a session from launch to morning review', () => {
  let t: E2E;
  beforeAll(async () => {
    t = await startE2E();
    t.env.h.writePersona({
      name: 'night-builder', display_name: 'Night builder', agent: 'shell', execution_mode: 'autonomous',
      purpose: 'Builds and tests overnight', filesystem: { write: ['{workspace}'] }, network: { allow: ['registry.npmjs.org'] },
      tools: { ask: ['Bash(git push:*)'] }, limits: { approval_timeout: '2m', max_runtime: '1h' },
    });
  }, 60_000);
  afterAll(async () => t?.close(), 30_000);

  it('launch, live feed, approval, stop (verified from outside), review', async () => {
    const { page } = t;
    const workspace = freshWorkspace(t.env.h, 'project');
    await page.click('nav >> text=Launch');
    await page.selectOption('select[name=persona]', 'night-builder');
    await page.fill('input[name=workspace]', workspace);
    await expect.poll(() => page.inputValue('input[name=on_behalf_of]')).toBe('tester');
    await page.fill('textarea[name=prompt]', AGENT);
    await page.click('button:has-text("Launch")');
    await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop() as string;

    // The terminal shows the agent's output.
    await page.waitForSelector('.xterm-rows >> text=agent: starting work');
    // Its events, labelled with the persona; the refused request marked denied.
    const denied = page.locator('.feed-row[data-kind="net.connect"][data-decision="denied"]');
    await denied.first().waitFor();
    await expect.poll(() => denied.first().locator('.chip').textContent()).toBe('night-builder');
    expect(await denied.first().locator('.c-target').textContent()).toBe('tracker.example.net:80');
    await page.locator('.feed-row[data-kind="fs.write"]').first().waitFor();
    await page.locator('.feed-row[data-kind="exec"] >> text=uname -s').first().waitFor();

    // Suggest persona: what this session did so far, as a persona, with the changes from night-builder.
    await page.click('[data-testid=suggest-persona] summary');
    await page.click('[data-testid=suggest-persona] button:has-text("Suggest")');
    const diff = page.locator('[data-testid=suggest-diff]');
    await diff.waitFor();
    expect(await diff.textContent()).toContain('+ network.allow: tracker.example.net:80');
    expect(await page.locator('[data-testid=suggest-yaml]').textContent()).toContain('name: night-builder');
    await page.click('[data-testid=suggest-persona] summary'); // folded again: the feed gets its room back

    // The approval: a card, and a desktop notification.
    const card = page.locator('.approval');
    await card.waitFor();
    expect(await card.textContent()).toContain('git push origin main');
    await expect.poll(async () => (await t.notifications()).length).toBeGreaterThan(0);
    expect((await t.notifications())[0]?.title).toBe('night-builder asks: Bash');
    await page.locator('.feed-row[data-kind="tool.call"][data-decision="waiting"]').first().waitFor();
    const screenshot = await t.shot('e2e-session');
    mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(screenshot, path.join(ROOT, 'docs', 'screenshot.png'));
    await card.locator('button:has-text("Allow")').click();
    await card.waitFor({ state: 'detached' });
    await page.locator('.feed-row[data-kind="approval"][data-decision="allowed"]').first().waitFor();
    await page.waitForSelector('.xterm-rows >> text=agent: push approved');

    // Stop: the session shows stopped only once verified; nothing of it survives.
    await until(() => (processesWithArgv(['sleep', '4242']).length === 2 ? true : undefined), 15_000, 'the agent to be working');
    const sleeper = processesWithArgv(['sleep', '4242'])[0] as number;
    const ns = readlinkSync(`/proc/${sleeper}/ns/pid`);
    const members = inNamespace(ns);
    expect(members.length).toBeGreaterThanOrEqual(3);
    const sandboxPid = (t.env.b.sessions.info(id)?.sandbox_pid ?? 0) as number;
    await page.click(`button[aria-label="Stop session ${id.slice(0, 8)}"]`);
    await page.waitForSelector('.session-head [data-testid=session-state]:has-text("stopped · verified")');
    expect(inNamespace(ns)).toEqual([]);
    // ...and once the session has ended, not even an unreaped exit status is left.
    await until(() => (inNamespace(ns, true).length === 0 ? true : undefined), 5000, 'the namespace to be empty');
    expect(members.filter(alive)).toEqual([]);
    expect(processesWithArgv(['sleep', '4242'])).toEqual([]);
    expect(alive(sandboxPid)).toBe(false);
    await page.locator('.feed-row[data-kind="stop"][data-decision="verified"]').first().waitFor();
    await t.shot('e2e-stopped');

    // Filters and search narrow the feed.
    await page.selectOption('select[aria-label="Filter by decision"]', 'deny');
    await expect.poll(() => page.locator('.feed-row[data-id]').count()).toBeGreaterThan(0);
    expect(await page.locator('.feed-row[data-id]:not([data-decision="denied"])').count()).toBe(0);
    await page.selectOption('select[aria-label="Filter by decision"]', '');
    await page.fill('input[aria-label="Search events"]', 'notes.md');
    await expect.poll(async () => page.locator('.feed-row[data-id] .c-target').allTextContents(), { timeout: 10_000 }).toEqual(
      expect.arrayContaining([expect.stringContaining('notes.md')]),
    );

    // The morning review.
    await page.click('nav >> text=Morning review');
    const review = page.locator('.review-persona[data-persona="night-builder"]');
    await review.waitFor();
    expect(await review.locator('.stat:has-text("denials") b').textContent()).not.toBe('0');
    expect(await review.textContent()).toContain('tracker.example.net:80');
    await review.locator('summary:has-text("Files changed")').click();
    expect(await review.textContent()).toContain('notes.md');
    await t.shot('e2e-review');
    const html = await t.context.request.get(`${t.env.b.url}/api/review/export.html`);
    expect(html.status()).toBe(200);
    expect(await html.text()).toContain('night-builder');
    const jsonl = await t.context.request.get(`${t.env.b.url}/api/review/export.jsonl`);
    expect((await jsonl.text()).split('\n').filter(Boolean).length).toBeGreaterThan(5);
  }, 120_000);
});
