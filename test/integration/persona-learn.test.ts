// Personas learned from real runs: a scripted agent (a shell script writing
// files and reaching loopback hosts through PERSONAE_HOSTS) recorded under an
// observing persona; `persona suggest` on its sessions gives a persona under
// which it runs with no denial and under which a variant reaching one more
// domain is denied. Observe mode at the tool layer, through the real broker.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, cli, makeHome, testServer, testUsers, type Home, type TestServer } from './harness.js';

const HOOK = '/run/personae/hooks/personae-hook';
const hook = (payload: unknown): string =>
  `printf '%s' '${JSON.stringify(payload).replace(/'/g, `'\\''`)}' | ${HOOK} PreToolUse >/dev/null 2>&1; echo "hook=$?"`;
const AGENT = [
  'mkdir -p build',
  'echo built > build/out.txt',
  'curl -fsS -m 5 http://a.test/; echo " a=$?"',
  'curl -fsS -m 5 http://b.test/; echo " b=$?"',
].join('\n');
const VARIANT = `${AGENT}\ncurl -fsS -m 5 http://c.test/; echo " c=$?"`;

const sessionOf = (stderr: string): string => /session ([0-9a-f-]{36})/.exec(stderr)?.[1] ?? '';

for (const as of testUsers()) {
  describe(`learning a persona from runs, as ${as.label}`, () => {
    let h: Home;
    const servers: TestServer[] = [];
    let env: Record<string, string>;
    beforeAll(async () => {
      h = makeHome(as);
      for (const body of ['body-a', 'body-b', 'body-c', 'body-d']) servers.push(await testServer(body));
      const [a, b, c, d] = servers.map((s) => s.port);
      env = { PERSONAE_HOSTS: `a.test=127.0.0.1:${a},b.test=127.0.0.1:${b},c.test=127.0.0.1:${c},d.test=127.0.0.1:${d}` };
      h.writePersona({
        name: 'learner', owner: 'platform@example.com', agent: 'shell', execution_mode: 'observe',
        filesystem: { write: ['{workspace}'], read_deny: ['~/.ssh'] },
        tools: { ask: ['Bash(npm publish:*)'], deny: ['Bash(git push:*)'] },
      });
    });
    afterAll(async () => {
      for (const s of servers) await s.close();
      h.cleanup();
    });

    it('observe mode runs what approve would ask about, records it, and still denies deny rules', async () => {
      const script = [
        hook({ tool_name: 'Bash', tool_input: { command: 'npm publish --dry-run' }, tool_use_id: 'tu-1' }),
        hook({ tool_name: 'Bash', tool_input: { command: 'make all' }, tool_use_id: 'tu-2' }),
        hook({ tool_name: 'Bash', tool_input: { command: 'git push origin main' }, tool_use_id: 'tu-3' }),
      ].join('\n');
      const r = await cli(h, ['run', 'learner', '--', 'bash', '-c', script], { env });
      expect(r.stdout.trim().split('\n')).toEqual(['hook=0', 'hook=0', 'hook=2']);
      const calls = await audit(h, ['--session', sessionOf(r.stderr), '--kind', 'tool.call']);
      expect(calls.map((e) => [e.target, e.decision, e.detail.would_be ?? null, e.detail.would_be_reason ?? null])).toEqual([
        ['npm publish --dry-run', 'allow', 'ask', 'tools.ask: Bash(npm publish:*)'],
        ['make all', 'allow', 'ask', 'execution_mode: approve'],
        ['git push origin main', 'deny', null, null],
      ]);
      expect(calls[0]?.detail.would_be_rule).toBe('Bash(npm publish:*)');
    });

    it('suggest gives a persona that runs the agent with no denial and denies one more domain', async () => {
      const recorded: string[] = [];
      for (let i = 0; i < 2; i++) {
        const r = await cli(h, ['run', 'learner', '--', 'sh', '-c', AGENT], { env });
        expect(r.stdout).toMatch(/a=\d+/);
        recorded.push(sessionOf(r.stderr));
      }
      // A third session reaches d.test once: a one-off destination, left out.
      const odd = await cli(h, ['run', 'learner', '--', 'sh', '-c', `${AGENT}\ncurl -fsS -m 5 http://d.test/`], { env });
      recorded.push(sessionOf(odd.stderr));
      const s = await cli(h, ['persona', 'suggest', ...recorded.map((id) => id.slice(0, 13)), '--name', 'tight']);
      expect(s.code).toBe(0);
      expect(s.stderr).toMatch(/learned from 3 session\(s\)/);
      const yaml = s.stdout;
      expect(yaml).toContain('- a.test:80 # 3 connections in 3 of 3 sessions, denied when recorded');
      expect(yaml).toContain('- b.test:80');
      expect(yaml).not.toMatch(/^\s+- d\.test/m);
      expect(yaml).toMatch(/# - d\.test:80: one-off destination \(1 connection in 1 of 3 sessions/);
      expect(yaml).toContain('- "{workspace}"');
      expect(yaml).toContain('- Bash(curl:*)');
      expect(yaml).toContain('execution_mode: approve');
      expect(yaml).toContain('Bash(git push:*)');
      const file = h.path('tight.yaml');
      writeFileSync(file, yaml);
      expect((await cli(h, ['persona', 'validate', file])).code).toBe(0);
      const diff = await cli(h, ['persona', 'diff', 'learner', file]);
      expect(diff.stdout).toContain('+ network.allow: a.test:80');
      expect(diff.stdout).toContain('~ execution_mode: observe -> approve');
      expect((await cli(h, ['persona', 'install', file])).code).toBe(0);

      const ok = await cli(h, ['run', 'tight', '--', 'sh', '-c', AGENT], { env });
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('body-a a=0');
      expect(ok.stdout).toContain('body-b b=0');
      expect(await audit(h, ['--session', sessionOf(ok.stderr), '--decision', 'deny'])).toEqual([]);

      const variant = await cli(h, ['run', 'tight', '--', 'sh', '-c', VARIANT], { env });
      expect(variant.stdout).toContain('body-b b=0');
      expect(variant.stdout).not.toContain('body-c');
      const denied = await audit(h, ['--session', sessionOf(variant.stderr), '--decision', 'deny']);
      expect(denied.map((e) => [e.kind, e.target])).toEqual([['net.connect', 'c.test:80']]);
    });
  });
}

describe('persona install DIR, persona diff', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
  });
  afterAll(() => h.cleanup());

  const preset = (name: string, extra = ''): string =>
    `version: 1\nname: ${name}\ndisplay_name: ${name}\nowner: team@example.com\npurpose: shared preset\nagent: shell\nnetwork:\n  allow: [registry.npmjs.org]\n${extra}`;

  it('says what each preset grants, installs them all, and shows changes on --force', async () => {
    const dir = h.path('team-presets');
    mkdirSync(dir);
    writeFileSync(`${dir}/reader.yaml`, preset('reader'));
    writeFileSync(`${dir}/writer.yaml`, preset('writer', 'filesystem:\n  write: ["{workspace}"]\n'));
    writeFileSync(`${dir}/README.md`, 'not a persona');
    const r = await cli(h, ['persona', 'install', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reader (');
    expect(r.stdout).toContain('  network: registry.npmjs.org');
    expect(r.stdout).toContain('  writes: {workspace}');
    expect(r.stderr).toContain('installed persona writer');
    writeFileSync(`${dir}/writer.yaml`, preset('writer', 'filesystem:\n  write: ["{workspace}"]\nexecution_mode: autonomous\n'));
    const again = await cli(h, ['persona', 'install', dir]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('~ execution_mode: approve -> autonomous');
    expect(again.stderr).toContain('reader, writer exist already; use --force');
    expect((await cli(h, ['persona', 'install', dir, '--force'])).code).toBe(0);
    const d = await cli(h, ['persona', 'diff', 'reader', `${dir}/writer.yaml`]);
    expect(d.stdout).toContain('+ filesystem.write: {workspace}');
  });

  it('refuses a folder with a malformed preset or a secret in one, one clear line each, installing nothing', async () => {
    const dir = h.path('bad-presets');
    mkdirSync(dir);
    writeFileSync(`${dir}/good.yaml`, preset('good'));
    writeFileSync(`${dir}/broken.yaml`, preset('broken', 'network:\n  allow: ["*.com"]\n').replace(/network:\n  allow: \[registry.npmjs.org\]\n/, ''));
    writeFileSync(`${dir}/leaky.yaml`, preset('leaky', `tools:\n  allow: ["Bash(curl -H 'Authorization: token ghp_${'a'.repeat(36)}':*)"]\n`));
    const r = await cli(h, ['persona', 'install', dir]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/broken\.yaml: network\.allow\[0\]: "\*\.com" is too broad$/),
      expect.stringMatching(/leaky\.yaml: holds what looks like a secret \(a GitHub token on line \d+\)/),
      'personae: nothing installed (2 problem(s))',
    ]);
    expect((await cli(h, ['persona', 'list'])).stderr + (await cli(h, ['persona', 'list'])).stdout).not.toContain('good');
  });
});

describe('the session page offers the same suggestion (control API)', () => {
  it('GET /api/sessions/:id/suggested-persona: the persona file, its changes and what was left out', async () => {
    const { raw, startApi } = await import('./api-harness.js');
    const env = await startApi();
    const server = await testServer('body-x');
    try {
      env.h.writePersona({ name: 'learner', agent: 'shell', execution_mode: 'observe', filesystem: { write: ['{workspace}'] } });
      const r = await cli(env.h, ['run', 'learner', '--', 'sh', '-c', 'echo x > top.txt; curl -fsS -m 5 http://x.test/; echo hi > /tmp/scratch'], {
        env: { PERSONAE_HOSTS: `x.test=127.0.0.1:${server.port}` },
      });
      const id = sessionOf(r.stderr);
      const res = await raw(env.b, `/api/sessions/${id}/suggested-persona`);
      expect(res.status).toBe(200);
      const body = res.json<{ yaml: string; changes: Array<{ field: string; kind: string; after?: string }>; current_path: string | null; sessions: string[] }>();
      expect(body.sessions).toEqual([id]);
      expect(body.yaml).toContain('- x.test:80 # 1 connection in 1 of 1 session, denied when recorded');
      expect(body.current_path).toMatch(/learner\.yaml$/);
      expect(body.changes).toContainEqual({ field: 'network.allow', kind: 'added', after: 'x.test:80' });
      expect(body.changes).toContainEqual({ field: 'execution_mode', kind: 'changed', before: 'observe', after: 'approve' });
      expect((await raw(env.b, '/api/sessions/nope/suggested-persona')).status).toBe(404);
    } finally {
      await server.close();
      await env.close();
    }
  });
});
