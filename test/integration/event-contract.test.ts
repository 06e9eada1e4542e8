// The JSONL contract: every attempt event carries its decision (exec,
// fs.read, fs.write, fs.delete, net.connect, tool.call, ...); only lifecycle
// and outcome records (session.*, exec.exit, tool.result, fs.diff, stop,
// limit, error) may leave it null. One session makes one of each, for real.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingDecision } from '../../sandbox/audit/event.js';
import { audit, cli, makeHome, testServer, testUsers, type Home, type TestServer } from './harness.js';

for (const as of testUsers()) {
  describe(`every attempt carries its decision, as ${as.label}`, () => {
    let h: Home;
    let server: TestServer;
    beforeAll(async () => {
      h = makeHome(as);
      server = await testServer('ok');
      h.writePersona({
        name: 'contract',
        agent: 'shell',
        execution_mode: 'autonomous',
        filesystem: { write: ['{workspace}'], read_deny: ['{workspace}/secret'] },
        network: { allow: ['allowed.test'] },
        tools: { deny: ['Bash(git push:*)'] },
      });
      writeFileSync(path.join(h.workspace, 'gone.txt'), 'x');
    });
    afterAll(async () => {
      await server.close();
      h.cleanup();
    });

    it('exec, fs.read, fs.write, fs.delete, net.connect, tool.call: each allowed or denied, never undecided', async () => {
      const hook = `printf '{"tool_name":"Bash","tool_input":{"command":"ls"}}' | /run/personae/hooks/personae-hook PreToolUse >/dev/null`;
      const script = [
        `echo a > ${h.workspace}/new.txt`,
        `rm ${h.workspace}/gone.txt`,
        `mkdir -p ${h.workspace}/secret; cat ${h.workspace}/secret/x 2>/dev/null; ls /root >/dev/null 2>&1`,
        'git push 2>/dev/null',
        'curl -fsS -m 5 http://allowed.test/ >/dev/null; curl -fsS -m 5 http://denied.test/ 2>/dev/null',
        hook,
        'echo home > $HOME/notes.txt',
      ].join('; ');
      const r = await cli(h, ['run', 'contract', '--', 'sh', '-c', script], { env: { PERSONAE_HOSTS: `allowed.test=127.0.0.1:${server.port},denied.test=127.0.0.1:${server.port}` } });
      const session = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const events = await audit(h, ['--session', session]);
      const kinds = new Set(events.map((e) => `${e.kind}:${e.decision ?? 'null'}`));
      for (const k of ['exec:allow', 'exec:deny', 'fs.write:allow', 'fs.delete:allow', 'net.connect:allow', 'net.connect:deny', 'tool.call:allow', 'fs.read:deny']) {
        expect(kinds, k).toContain(k);
      }
      expect(events.filter(missingDecision).map((e) => e.kind)).toEqual([]);
      // The decision names what made it: a grant, a rule, a hidden path.
      expect(events.find((e) => e.kind === 'fs.write' && e.target === `${h.workspace}/new.txt`)?.reason).toBe(`filesystem.write: ${h.workspace}`);
      expect(events.find((e) => e.kind === 'fs.delete')?.reason).toBe(`filesystem.write: ${h.workspace}`);
    });
  });
}
