// The real Codex CLI (codex exec) as a persona, inside the real sandbox,
// driven by a scripted fake Responses API. With the default model Codex runs
// in "code mode": the model's one tool is `exec`, a JavaScript cell whose
// nested tool calls (exec_command, apply_patch) each go through the hooks.
// Judged from outside: which files exist, what the model was told, the audit.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCodexInstall } from '../../sandbox/intercept/codex.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fixtures/fake-openai.js';
import { audit, cli, readWithoutReadDeny, READ_DENY_CANARY, ROOT, type Home, type TestServer, agentScenarioHome } from './harness.js';

const bin = process.env.PERSONAE_CODEX_BIN;
const installed = findCodexInstall({ ...process.env, PATH: `${ROOT}/node_modules/.bin:${process.env.PATH ?? ''}` }) !== undefined;
if (!installed) console.warn('agent-codex.test.ts skipped: Codex is not installed (npm i -D @openai/codex, or set PERSONAE_CODEX_BIN)');

/** One `exec` cell calling a nested tool and printing what it returned (or the error it threw). */
const cell = (call: string): { custom: { name: string; input: string } } => ({
  custom: { name: 'exec', input: `try { const r = await ${call}; text(typeof r === 'string' ? r : JSON.stringify(r)); } catch (e) { text('ERROR: ' + String(e)); }` },
});

if (!installed) throw new Error('the agent CLI (a dev dependency) is not installed: run npm install');
describe('Codex CLI as a persona', () => {
  let h: Home;
  let fake: FakeOpenAI;
  let denied: TestServer;
  let result: Awaited<ReturnType<typeof cli>>;
  let session = '';
  let canary = '';

  beforeAll(async () => {
    ({ h, denied, canaryPath: canary } = await agentScenarioHome('CANARY-CODEX-7731'));
    const ws = h.workspace;
    const patch = (file: string): string => JSON.stringify(`*** Begin Patch\n*** Add File: ${file}\n+patched\n*** End Patch\n`);
    fake = await startFakeOpenAI([
      cell(`tools.exec_command({ cmd: 'echo allowed-ran > ${ws}/allowed.txt' })`),
      cell(`tools.exec_command({ cmd: 'git push origin main' })`),
      cell(`tools.exec_command({ cmd: 'curl -fsS -m 5 http://denied.test/' })`),
      cell(`tools.apply_patch(${patch(`${ws}/inside.txt`)})`),
      cell(`tools.apply_patch(${patch(`${ws}/blocked/x.txt`)})`),
      cell(`tools.exec_command({ cmd: 'cat ${canary}' })`),
      { text: 'done' },
    ]);
    h.writePersona({
      name: 'codex-dev',
      agent: 'codex',
      execution_mode: 'autonomous',
      filesystem: { write: ['{workspace}'], read_deny: [READ_DENY_CANARY] },
      network: { allow: ['allowed.test'] },
      // In the clear: the fake API is plain HTTP here (injection at the proxy is tested with Claude Code over HTTPS).
      credentials: { OPENAI_API_KEY: { secret: 'openai', inject: 'env' } },
      tools: { deny: ['Bash(git push:*)', 'Write(/blocked/**)'] },
    });
    expect((await cli(h, ['secret', 'set', 'openai'], { input: 'sk-test-key-9021' })).code).toBe(0);
    result = await cli(h, ['run', 'codex-dev', '--', 'codex', 'exec', '--skip-git-repo-check', 'do the work'], {
      env: {
        PERSONAE_HOSTS: `model.test=127.0.0.1:${fake.port},denied.test=127.0.0.1:${denied.port}`,
        PERSONAE_OPENAI_BASE_URL: 'http://model.test/v1',
        PATH: `${ROOT}/node_modules/.bin:${process.env.PATH ?? '/usr/bin:/bin'}`,
        ...(bin ? { PERSONAE_CODEX_BIN: bin } : {}),
      },
      timeoutMs: 120_000,
    });
    session = /session ([0-9a-f-]{36})/.exec(result.stderr)?.[1] ?? '';
  }, 150_000);

  afterAll(async () => {
    await fake?.close();
    await denied?.close();
    h?.cleanup();
  });

  const outputOf = (match: string): string | undefined => fake.toolResults().find((r) => String(r.input).includes(match))?.output;
  const told = (match: string): string => outputOf(match) ?? '';

  it('runs to the end and ran what was allowed', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(fake.toolResults().length, result.stderr).toBe(6);
    expect(readFileSync(`${h.workspace}/allowed.txt`, 'utf8')).toBe('allowed-ran\n');
    expect(readFileSync(`${h.workspace}/inside.txt`, 'utf8')).toBe('patched\n');
  });

  it('blocked what was denied, and told the model why', () => {
    expect(told('git push')).toContain('tools.deny: Bash(git push:*)');
    expect(told('blocked/x.txt')).toContain('tools.deny: Write(/blocked/**)');
    expect(existsSync(`${h.workspace}/blocked/x.txt`)).toBe(false);
    expect(told('curl')).not.toContain('denied-body');
    expect(denied.hits).toEqual([]);
  });

  it('hid the canary from cat: the sandbox refused the read and recorded it (a persona without read_deny reads it)', async () => {
    expect(await readWithoutReadDeny(h, canary)).toBe('CANARY-CODEX-7731');
    const out = outputOf('canary');
    expect(out, 'Codex sent no tool output for the cat').toBeDefined();
    expect(out).toContain('No such file or directory');
    expect(out).not.toContain('CANARY-CODEX-7731');
    const reads = await audit(h, ['--session', session, '--kind', 'fs.read']);
    expect(reads.filter((e) => e.target === canary).map((e) => [e.tool, e.decision, e.reason, e.persona])).toContainEqual(['cat', 'deny', `filesystem.read_deny: ${h.workspace}/secret`, 'codex-dev']);
  });

  it('records every call with the persona, the agent and its version', async () => {
    const events = await audit(h, ['--session', session]);
    // Codex's own hook calls (shell-level interception may add `Shell` events of its own).
    const calls = events.filter((e) => e.kind === 'tool.call' && e.detail.layer !== 'shell');
    expect(calls.map((e) => e.tool)).toEqual(['Bash', 'Bash', 'Bash', 'apply_patch', 'apply_patch', 'Bash']);
    expect(calls.filter((e) => e.decision === 'deny').map((e) => e.reason)).toEqual(['tools.deny: Bash(git push:*)', 'tools.deny: Write(/blocked/**)']);
    for (const e of events) {
      expect(e.persona).toBe('codex-dev');
      expect(e.agent.kind).toBe('codex');
      expect(e.agent.version).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(events.some((e) => e.kind === 'session.ready')).toBe(true);
    expect(events.some((e) => e.kind === 'net.connect' && e.target === 'denied.test:80' && e.decision === 'deny')).toBe(true);
    expect(events.some((e) => e.kind === 'exec' && e.target?.includes('git push') === true)).toBe(false);
    expect(JSON.stringify(events)).not.toContain('sk-test-key-9021');
  });

  it('refuses flags that would weaken interception', async () => {
    const r = await cli(h, ['run', 'codex-dev', '--', 'codex', 'exec', '--dangerously-bypass-approvals-and-sandbox', 'x'], {
      env: { PATH: `${ROOT}/node_modules/.bin:${process.env.PATH ?? '/usr/bin:/bin'}`, ...(bin ? { PERSONAE_CODEX_BIN: bin } : {}) },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--dangerously-bypass-approvals-and-sandbox');
  });
});
