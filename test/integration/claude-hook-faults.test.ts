// Claude Code's hooks fail open. Each way a hook can fail is fed to the real
// CLI in the real sandbox, and the call must still be denied: personae runs it
// in dontAsk mode, and a settings file Claude Code drops is caught by the
// SessionStart check-in. Judged from outside (the file the call would write).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePersonaText } from '../../personas/loader.js';
import type { Persona } from '../../personas/schema.js';
import { openAuditStore, type AuditStore } from '../../sandbox/audit/store.js';
import type { AgentAdapter } from '../../sandbox/intercept/adapter.js';
import { claudeAdapter } from '../../sandbox/intercept/claude.js';
import { parseHostMap } from '../../sandbox/net/host-map.js';
import { Session } from '../../sandbox/session.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { makeHome, type Home } from './harness.js';

type Fault = 'exit1' | 'badjson' | 'timeout' | 'invalid-settings';

function faulty(base: AgentAdapter, fault: Fault): AgentAdapter {
  return {
    ...base,
    async prepare(ctx) {
      const plan = await base.prepare(ctx);
      const file = path.join(ctx.dir, 'claude-settings.json');
      const s = JSON.parse(readFileSync(file, 'utf8')) as { hooks: Record<string, Array<{ hooks: Array<{ command: string; timeout: number }> }>>; model?: unknown };
      const pre = s.hooks.PreToolUse?.[0]?.hooks[0];
      if (!pre) throw new Error('no PreToolUse hook');
      if (fault === 'exit1') pre.command = "/bin/sh -c 'cat >/dev/null; exit 1'";
      if (fault === 'badjson') pre.command = `/bin/sh -c 'cat >/dev/null; echo "{not json"'`;
      if (fault === 'timeout') Object.assign(pre, { command: "/bin/sh -c 'sleep 30'", timeout: 2 });
      if (fault === 'invalid-settings') s.model = 5;
      writeFileSync(file, JSON.stringify(s));
      return plan;
    },
  };
}

describe('Claude Code hook failures still deny', () => {
  let h: Home;
  let store: AuditStore;
  let persona: Persona;
  beforeAll(() => {
    h = makeHome();
    store = openAuditStore(path.join(h.home, 'audit.db'));
    const parsed = parsePersonaText(
      JSON.stringify({ version: 1, name: 'faulty', display_name: 'Faulty', owner: 't', purpose: 't', agent: 'claude', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } }),
      'faulty.json',
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    persona = parsed.persona;
  });
  afterAll(() => {
    store.close();
    h.cleanup();
  });

  for (const fault of ['exit1', 'badjson', 'timeout', 'invalid-settings'] as const) {
    it(`${fault}: the write is denied and the model is told`, async () => {
      const target = path.join(h.workspace, `fault-${fault}.txt`);
      const fake: FakeAnthropic = await startFakeAnthropic([{ toolUse: { name: 'Bash', input: { command: `echo x > ${target}` } } }, { text: 'done' }]);
      try {
        const personaHome = path.join(h.home, 'homes', 'faulty');
        const base = claudeAdapter(persona, {
          personaHome,
          hookTimeoutSeconds: 20,
          hooksLiveMs: 20_000,
          env: { ...process.env, PERSONAE_ANTHROPIC_BASE_URL: 'http://model.test' },
        });
        const session = await Session.start({
          persona,
          personaeHome: h.home,
          personaHome,
          runDir: path.join(h.home, 'run'),
          workspace: h.workspace,
          command: ['claude', '-p', 'go'],
          onBehalfOf: 'tests',
          userHome: h.dir,
          credentials: [{ env: 'ANTHROPIC_API_KEY', secret: 'anthropic', value: 'sk-fake', inject: 'env', hosts: [] }],
          store,
          stdio: { kind: 'pipe' },
          adapter: faulty(base, fault),
          hostMap: parseHostMap(`model.test=127.0.0.1:${fake.port}`),
        });
        const end = await Promise.race([session.ended, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('session did not end')), 60_000))]);
        store.flush();
        expect(existsSync(target)).toBe(false);
        const events = store.query({ session: session.id });
        if (fault === 'invalid-settings') {
          // No hooks at all: caught by the missing check-in.
          expect(events.some((e) => e.kind === 'session.ready')).toBe(false);
          expect(events.filter((e) => e.kind === 'error').map((e) => e.reason)).toEqual([expect.stringMatching(/check(ed|ing)? in/)]);
        } else {
          expect(end.exitCode).toBe(0);
          const result = fake.toolResults()[0];
          expect(result?.isError).toBe(true);
        }
      } finally {
        await fake.close();
      }
    }, 90_000);
  }
});
