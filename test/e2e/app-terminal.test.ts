// The app's terminal in Chromium against the real backend: the command's
// first byte is laid out at the view's size (the PTY has it before the
// command starts), every line shows once (also after a reload), and an
// interactive shell has job control: Ctrl-C interrupts the foreground
// command and the session lives on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshWorkspace } from '../integration/api-harness.js';
import { processesMatching } from '../integration/harness.js';
import { e2eUnavailable, startE2E, type E2E } from './browser.js';

const skip = e2eUnavailable();

describe.skipIf(skip !== undefined)('app: the session terminal', () => {
  let t: E2E;
  beforeAll(async () => {
    t = await startE2E();
    t.env.h.writePersona({ name: 'terminal-user', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
  }, 60_000);
  afterAll(async () => t?.close(), 30_000);

  it('sized from the first byte, each line once (also after a reload), Ctrl-C reaches the foreground job', async () => {
    const { page } = t;
    const marker = `5${Math.floor(Math.random() * 1e5)}`;
    await page.click('nav >> text=Launch');
    await page.selectOption('select[name=persona]', 'terminal-user');
    await page.fill('input[name=workspace]', freshWorkspace(t.env.h, 'term'));
    await page.fill('textarea[name=prompt]', 'echo "first-line-$((40+2))"; echo "size: $(stty size)"; exec bash -i');
    await page.click('button:has-text("Launch")');
    await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
    const rows = page.locator('.xterm-rows');
    await rows.locator('text=first-line-42').waitFor();
    const host = page.locator('[data-testid=terminal]');
    const size = `${await host.getAttribute('data-rows')} ${await host.getAttribute('data-cols')}`;
    expect(size).toMatch(/^\d+ \d+$/);
    await rows.locator(`text=size: ${size}`).waitFor();
    const screen = async (): Promise<string> => (await rows.innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(screen).toMatch(/[$#]\s*$/m);
    expect((await screen()).match(/first-line-42/g)?.length).toBe(1);
    await t.shot('e2e-terminal');

    // A reload: the screen is rebuilt from the replay, still once.
    await page.reload();
    await rows.locator('text=first-line-42').waitFor();
    await page.waitForTimeout(300);
    expect((await screen()).match(/first-line-42/g)?.length).toBe(1);
    expect((await screen()).match(/size: /g)?.length).toBe(1);

    // Job control: Ctrl-C interrupts the foreground command, the shell answers again.
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type(`sleep ${marker}\n`);
    await expect.poll(() => processesMatching(`^sleep ${marker}`).length, { timeout: 10_000 }).toBe(1);
    await page.keyboard.press('Control+C');
    await expect.poll(() => processesMatching(`^sleep ${marker}`).length, { timeout: 5000 }).toBe(0);
    await page.keyboard.type('echo "alive-$((6*7))"\n');
    await rows.locator('text=/^alive-42/').waitFor();
    expect(await page.locator('.session-head [data-testid=session-state]').textContent()).toMatch(/running/);
    await t.shot('e2e-terminal-ctrl-c');
  }, 90_000);
});
