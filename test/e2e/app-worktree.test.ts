// Worktree sessions in the app, in Chromium against the real backend: launch
// one in a worktree from the form, see its diff in the Changes tab (file
// tree, side by side and unified, the commit with its persona and
// on-behalf-of), Keep it and find the file in the checkout; Discard another;
// the sessions list as a fleet view, a session waiting for a human visibly
// waiting and notified; the morning review linking to the Changes tab.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../main/api/contract.js';
import { raw, until } from '../integration/api-harness.js';
import { ROOT } from '../integration/harness.js';
import { g, makeRepo } from '../integration/worktree-helpers.js';
import { e2eUnavailable, startE2E, type E2E } from './browser.js';

const HOOK_PAYLOAD = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'git push origin main' }, tool_use_id: 'toolu_wt' });
const WORK = [
  'sed -i "s/line two/line two, fixed by the persona/" src/app.txt',
  'printf "export function greet(name: string): string {\\n  return \'hello \' + name;\\n}\\n" > src/greet.ts',
  'git add -A && git commit -qm "Fix line two and add greet()"',
  'echo "left for later" > notes.md',
  'echo agent: done',
].join(' && ');

const skip = e2eUnavailable();

describe.skipIf(skip !== undefined)('app: sessions in worktrees, reviewed, kept or discarded', () => {
  let t: E2E;
  let repo: string;
  beforeAll(async () => {
    t = await startE2E();
    t.env.h.writePersona({
      name: 'night-builder', display_name: 'Night builder', agent: 'shell', execution_mode: 'autonomous',
      purpose: 'Builds and tests overnight', filesystem: { write: ['{workspace}'] }, tools: { ask: ['Bash(git push:*)'] }, limits: { approval_timeout: '2m' },
    });
    repo = makeRepo(t.env.h, 'project', { 'src/app.txt': 'line one\nline two\nline three\n' });
  }, 60_000);
  afterAll(async () => t?.close(), 30_000);

  it('launch in a worktree, review the diff, keep it: the file is in the checkout', async () => {
    const { page } = t;
    await page.click('nav >> text=Launch');
    await page.selectOption('select[name=persona]', 'night-builder');
    await page.fill('input[name=workspace]', repo);
    // A git repository: the worktree option is on by default.
    await page.waitForSelector('[data-testid=workspace-info]:has-text("git repository")');
    expect(await page.isChecked('input[name=worktree]')).toBe(true);
    await page.fill('textarea[name=prompt]', WORK);
    await page.click('button:has-text("Launch")');
    await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop() as string;
    await page.waitForSelector('.session-head [data-testid=session-state]:has-text("ended")', { timeout: 30_000 });
    const info = t.env.b.sessions.info(id) as SessionInfo;
    expect(info.worktree?.branch).toBe(`personae/night-builder/${id.slice(0, 8)}`);
    expect(g(repo, 'status', '--porcelain')).toBe('');
    expect(readFileSync(path.join(repo, 'src/app.txt'), 'utf8')).not.toContain('fixed by the persona');

    await page.click('.session-tabs >> text=Changes');
    await page.waitForURL(/\/changes$/);
    await page.waitForSelector('.file-diff[data-path="src/app.txt"]');
    expect(await page.textContent('[data-testid=changes-summary]')).toContain('1 commit · 3 files changed · 1 uncommitted');
    expect(await page.locator('.file-diff[data-path="notes.md"] .badge').textContent()).toBe('uncommitted');
    expect(await page.locator('.changes-tree').textContent()).toContain('greet.ts');
    const commit = page.locator('.commits li').first();
    expect(await commit.textContent()).toContain('Fix line two and add greet()');
    expect(await commit.textContent()).toContain('by Night builder <night-builder@personae.invalid> on behalf of tester');
    // Side by side (the default), with syntax colours; then unified.
    await page.waitForSelector('.file-diff[data-path="src/greet.ts"] .token.keyword');
    expect(await page.locator('.file-diff[data-path="src/app.txt"] .diff-split').count()).toBe(1);
    await page.locator('.file-diff[data-path="src/greet.ts"]').scrollIntoViewIfNeeded();
    const shot = await t.shot('e2e-changes');
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(shot, path.join(ROOT, 'docs', 'changes.png'));
    await page.click('.view-toggle >> text=Unified');
    await page.waitForSelector('.file-diff[data-path="src/app.txt"] .diff-unified');

    // Keep, confirmed.
    await page.click('button:has-text("Keep…")');
    await page.waitForSelector('[role=dialog][aria-label="Confirm keep"]');
    await page.click('button:has-text("Confirm keep")');
    await page.waitForSelector('.done:has-text("Kept: fast-forward into main")', { timeout: 20_000 });
    expect(readFileSync(path.join(repo, 'src/app.txt'), 'utf8')).toBe('line one\nline two, fixed by the persona\nline three\n');
    expect(readFileSync(path.join(repo, 'notes.md'), 'utf8')).toBe('left for later\n');
    expect(existsSync(path.join(repo, 'src/greet.ts'))).toBe(true);
    expect(g(repo, 'status', '--porcelain')).toBe('');
    expect(g(repo, 'log', '--format=%an|%s', '-2').split('\n')).toEqual([`Night builder|Uncommitted changes of session ${id}`, 'Night builder|Fix line two and add greet()']);
    expect(existsSync(info.worktree?.path ?? '')).toBe(false);
    // The Changes tab now shows what the engine recorded at the session's end.
    await page.waitForSelector('.changes-head:has-text("kept")');
    await page.waitForSelector('.file-diff[data-path="src/app.txt"]');
  }, 120_000);

  it('discard another: its worktree and branch are gone, the checkout untouched', async () => {
    const { page } = t;
    const head = g(repo, 'rev-parse', 'HEAD');
    const r = await raw(t.env.b, '/api/sessions', {
      body: { persona: 'night-builder', workspace: repo, worktree: true, command: ['sh', '-c', 'echo "# rewritten" > README.md && git commit -qam "Rewrite the readme"'] },
    });
    expect(r.status, r.text).toBe(201);
    const s = r.json<SessionInfo>();
    await until(() => (t.env.b.sessions.info(s.id)?.state === 'ended' ? true : undefined), 30_000, 'the session to end');
    await page.goto(`${t.env.b.url}/#/sessions/${s.id}/changes`);
    await page.waitForSelector('.file-diff[data-path="README.md"]');
    await page.click('button:has-text("Discard…")');
    await page.click('button:has-text("Confirm discard")');
    await page.waitForSelector(`.done:has-text("Discarded: the worktree and branch ${s.worktree?.branch ?? ''} are removed")`);
    expect(existsSync(s.worktree?.path ?? '/nonexistent')).toBe(false);
    expect(g(repo, 'branch', '--list', s.worktree?.branch ?? '')).toBe('');
    expect(g(repo, 'rev-parse', 'HEAD')).toBe(head);
    expect(readFileSync(path.join(repo, 'README.md'), 'utf8')).toBe('# project\n');
    // A conflict or a refusal is shown as the backend says it: keeping a discarded session is refused.
    const again = await raw(t.env.b, `/api/sessions/${s.id}/apply`, { body: {} });
    expect(again.status).toBe(409);
  }, 60_000);

  it('the sessions list is a fleet view; a session waiting for a human shows it and notifies', async () => {
    const { page } = t;
    const ask = `printf '%s' '${HOOK_PAYLOAD}' | /run/personae/hooks/personae-hook PreToolUse >/dev/null 2>&1; sleep 300`;
    const r = await raw(t.env.b, '/api/sessions', { body: { persona: 'night-builder', workspace: repo, worktree: true, command: ['sh', '-c', ask] } });
    expect(r.status, r.text).toBe(201);
    const s = r.json<SessionInfo>();
    await page.click('nav >> text=Sessions');
    const row = page.locator(`tr.session-row[data-session="${s.id}"]`);
    await row.locator('[data-testid=session-state]:has-text("waiting for approval")').waitFor({ timeout: 20_000 });
    expect(await row.getAttribute('class')).toContain('fleet-waiting');
    expect(await row.locator('.fleet-branch').textContent()).toContain(`personae/night-builder/${s.id.slice(0, 8)}`);
    expect(await row.locator('.chip').textContent()).toBe('night-builder');
    await page.waitForSelector('.fleet-waiting-note:has-text("1 session waiting for you")');
    await expect.poll(async () => (await t.notifications()).find((n) => n.title === 'night-builder asks: Bash')?.body ?? '').toContain(`in ${s.worktree?.path ?? ''}`);
    // The first session (kept) and the second (discarded) are listed with what became of them.
    expect(await page.locator('.fleet-branch:has-text("(kept)")').count()).toBe(1);
    expect(await page.locator('.fleet-branch:has-text("(discarded)")').count()).toBe(1);
    const kept = page.locator('tr.session-row:has(.fleet-branch:has-text("(kept)"))');
    expect(await kept.locator('[data-testid=files-changed]').textContent()).toBe('3');
    // A human's Discard is not the persona's denial.
    expect(await page.locator('tr.session-row:has(.fleet-branch:has-text("(discarded)")) [data-testid=denials]').textContent()).toBe('0');
    await t.shot('e2e-fleet');
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(path.join(ROOT, 'test-results', 'e2e-fleet.png'), path.join(ROOT, 'docs', 'fleet.png'));
    await row.click();
    await page.waitForURL(new RegExp(`#/sessions/${s.id}$`));
    await page.click(`button[aria-label="Stop session ${s.id.slice(0, 8)}"]`);
    await page.waitForSelector('.session-head [data-testid=session-state]:has-text("stopped · verified")');
    expect((await raw(t.env.b, `/api/sessions/${s.id}/discard`, { body: {} })).status).toBe(200);
  }, 60_000);

  it('the morning review links each session to its Changes tab', async () => {
    const { page } = t;
    await page.click('nav >> text=Morning review');
    const review = page.locator('.review-persona[data-persona="night-builder"]');
    await review.waitFor();
    await review.locator('summary:has-text("Sessions")').click();
    const links = review.locator('a.review-changes');
    expect(await links.count()).toBe(3);
    await links.last().click();
    await page.waitForURL(/\/changes$/);
    await page.waitForSelector('.file-diff[data-path="src/app.txt"]');
    expect(spawnSync('git', ['-C', repo, 'worktree', 'list']).stdout.toString().trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
