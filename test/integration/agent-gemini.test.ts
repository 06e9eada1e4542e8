// The real Gemini CLI (gemini -p) as a persona, inside the real sandbox,
// driven by a scripted fake Gemini API. Judged from outside: which files
// exist, what the model was told (the functionResponses), the audit log.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGeminiPackage } from '../../sandbox/intercept/gemini.js';
import { startFakeGemini, type FakeGemini } from '../fixtures/fake-gemini.js';
import { audit, cli, readWithoutReadDeny, READ_DENY_CANARY, ROOT, type Home, type TestServer, agentScenarioHome } from './harness.js';

const bin = process.env.PERSONAE_GEMINI_BIN;
const PATH = `${ROOT}/node_modules/.bin:${process.env.PATH ?? '/usr/bin:/bin'}`;
const installed = findGeminiPackage({ ...process.env, PATH }) !== undefined;
if (!installed) console.warn('agent-gemini.test.ts skipped: Gemini CLI is not installed (npm i -D @google/gemini-cli, or set PERSONAE_GEMINI_BIN)');
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ PATH, ...(bin ? { PERSONAE_GEMINI_BIN: bin } : {}), ...extra });

if (!installed) throw new Error('the agent CLI (a dev dependency) is not installed: run npm install');
describe('Gemini CLI as a persona', () => {
  let h: Home;
  let fake: FakeGemini;
  let denied: TestServer;
  let result: Awaited<ReturnType<typeof cli>>;
  let session = '';
  let canary = '';

  beforeAll(async () => {
    ({ h, denied, canaryPath: canary } = await agentScenarioHome('CANARY-GEMINI-5519'));
    const ws = h.workspace;
    fake = await startFakeGemini([
      { call: { name: 'run_shell_command', args: { command: `echo allowed-ran > ${ws}/allowed.txt` } } },
      { call: { name: 'run_shell_command', args: { command: 'git push origin main' } } },
      { call: { name: 'run_shell_command', args: { command: 'curl -fsS -m 5 http://denied.test/' } } },
      { call: { name: 'write_file', args: { file_path: `${ws}/inside.txt`, content: 'inside\n' } } },
      { call: { name: 'write_file', args: { file_path: `${ws}/blocked/x.txt`, content: 'no\n' } } },
      { call: { name: 'web_fetch', args: { prompt: 'Summarize https://evil.example.com/x please' } } },
      { call: { name: 'read_file', args: { file_path: canary } } },
      { text: 'done' },
    ]);
    h.writePersona({
      name: 'gemini-dev',
      agent: 'gemini',
      execution_mode: 'autonomous',
      filesystem: { write: ['{workspace}'], read_deny: [READ_DENY_CANARY] },
      network: { allow: ['allowed.test'] },
      // In the clear: the fake API is plain HTTP here (injection at the proxy is tested with Claude Code over HTTPS).
      credentials: { GEMINI_API_KEY: { secret: 'gemini', inject: 'env' } },
      tools: { deny: ['Bash(git push:*)', 'Write(/blocked/**)', 'WebFetch(domain:evil.example.com)'] },
    });
    expect((await cli(h, ['secret', 'set', 'gemini'], { input: 'gm-test-key-4410' })).code).toBe(0);
    result = await cli(h, ['run', 'gemini-dev', '--', 'gemini', '-p', 'do the work', '-m', 'gemini-2.5-pro', '--output-format', 'json'], {
      env: env({
        PERSONAE_HOSTS: `model.test=127.0.0.1:${fake.port},denied.test=127.0.0.1:${denied.port}`,
        PERSONAE_GEMINI_BASE_URL: 'http://model.test',
      }),
      timeoutMs: 150_000,
    });
    session = /session ([0-9a-f-]{36})/.exec(result.stderr)?.[1] ?? '';
  }, 180_000);

  afterAll(async () => {
    await fake?.close();
    await denied?.close();
    h?.cleanup();
  });

  const told = (match: string): { output: string; isError: boolean } | undefined => fake.toolResults().find((r) => JSON.stringify(r.args).includes(match));

  it('runs to the end and ran what was allowed', () => {
    expect(result.code, result.stderr).toBe(0);
    expect(fake.toolResults().length, result.stderr).toBe(7);
    expect(readFileSync(`${h.workspace}/allowed.txt`, 'utf8')).toBe('allowed-ran\n');
    expect(readFileSync(`${h.workspace}/inside.txt`, 'utf8')).toBe('inside\n');
  });

  it('blocked what was denied, and told the model why', () => {
    expect(told('git push')?.isError).toBe(true);
    expect(told('git push')?.output).toContain('tools.deny: Bash(git push:*)');
    expect(told('blocked/x.txt')?.output).toContain('tools.deny: Write(/blocked/**)');
    expect(existsSync(`${h.workspace}/blocked/x.txt`)).toBe(false);
    expect(told('evil.example.com')?.output).toContain('tools.deny: WebFetch(domain:evil.example.com)');
    expect(told('curl')?.output ?? '').not.toContain('denied-body');
    expect(denied.hits).toEqual([]);
  });

  it('hid the canary from read_file: the sandbox refused the read and recorded it (a persona without read_deny reads it)', async () => {
    expect(await readWithoutReadDeny(h, canary)).toBe('CANARY-GEMINI-5519');
    const read = told('canary');
    expect(read, 'Gemini CLI sent no functionResponse for the read_file').toBeDefined();
    expect(read?.isError, read?.output).toBe(true);
    expect(read?.output).not.toContain('CANARY-GEMINI-5519');
    // The hook allowed the read_file (no tool rule denies it); the sandbox hid the file, and said so.
    const reads = await audit(h, ['--session', session, '--kind', 'fs.read']);
    expect(reads.filter((e) => e.target === canary).map((e) => [e.decision, e.reason, e.persona])).toContainEqual(['deny', `filesystem.read_deny: ${h.workspace}/secret`, 'gemini-dev']);
  });

  it('records every call with the persona, the agent and its version', async () => {
    const events = await audit(h, ['--session', session]);
    const calls = events.filter((e) => e.kind === 'tool.call' && e.detail.layer !== 'shell');
    expect(calls.map((e) => e.tool)).toEqual(['run_shell_command', 'run_shell_command', 'run_shell_command', 'write_file', 'write_file', 'web_fetch', 'read_file']);
    expect(calls.find((e) => e.tool === 'web_fetch')?.detail.judged_as).toEqual([{ tool: 'WebFetch', target: 'https://evil.example.com/x' }]);
    expect(calls.filter((e) => e.decision === 'deny').map((e) => e.reason)).toEqual([
      'tools.deny: Bash(git push:*)',
      'tools.deny: Write(/blocked/**)',
      'tools.deny: WebFetch(domain:evil.example.com)',
    ]);
    for (const e of events) {
      expect(e.persona).toBe('gemini-dev');
      expect(e.agent.kind).toBe('gemini');
      expect(e.agent.version).toMatch(/^\d+\.\d+\.\d+$/);
    }
    expect(events.some((e) => e.kind === 'session.ready')).toBe(true);
    expect(events.filter((e) => e.kind === 'bypass')).toEqual([]);
    expect(events.some((e) => e.kind === 'net.connect' && e.target === 'denied.test:80' && e.decision === 'deny')).toBe(true);
    expect(events.some((e) => e.kind === 'exec' && e.target?.includes('git push') === true)).toBe(false);
    expect(JSON.stringify(events)).not.toContain('gm-test-key-4410');
  });

  it('refuses a workspace whose .gemini/settings.json configures hooks, and weakening flags', async () => {
    const ws = h.path('ws2');
    mkdirSync(`${ws}/.gemini`, { recursive: true });
    writeFileSync(`${ws}/.gemini/settings.json`, '{ // comment\n "hooksConfig": { "disabled": ["personae"] } }');
    const r = await cli(h, ['run', 'gemini-dev', '--', 'gemini', '-p', 'x'], { env: env(), cwd: ws });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('configures hooksConfig');
    const y = await cli(h, ['run', 'gemini-dev', '--', 'gemini', '--yolo', '-p', 'x'], { env: env() });
    expect(y.code).not.toBe(0);
    expect(y.stderr).toContain('--yolo');
  });
});
