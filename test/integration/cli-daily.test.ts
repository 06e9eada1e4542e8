// The CLI's rough edges, as a new user meets them: persona list is a table
// with a header; an unknown --kind names the valid ones; one write of a file
// is one event; a persona file without display_name is accepted; run without
// a command opens the persona's interactive shell. As root and as an
// unprivileged user.
import { chownSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_KINDS } from '../../sandbox/audit/event.js';
import { audit, cli, CLI, makeHome, testUsers, type Home } from './harness.js';
import { openScreen } from './screen.js';

const MINIMAL = `version: 1
name: minimal
owner: me@example.com
purpose: the least a persona file needs
agent: shell
`;

describe.each(testUsers())('CLI rough edges ($label)', (as) => {
  let h: Home;
  beforeAll(() => {
    h = makeHome(as);
    h.writePersona({ name: 'writer', agent: 'shell', execution_mode: 'autonomous', owner: 'ana@example.com', filesystem: { write: ['{workspace}'] }, network: { allow: ['registry.npmjs.org'] } });
    h.writePersona({ name: 'a-very-long-persona-name', agent: 'claude', owner: 'b@example.com' });
    const minimal = path.join(h.home, 'personas', 'minimal.yaml');
    writeFileSync(minimal, MINIMAL);
    if (as.uid !== undefined) chownSync(minimal, as.uid, as.gid ?? as.uid);
  });
  afterAll(() => h.cleanup());

  it('persona list: a header and aligned columns', async () => {
    const r = await cli(h, ['persona', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+AGENT\s+MODE\s+OWNER\s+WRITE\s+NETWORK$/);
    const header = lines[0] ?? '';
    const row = lines.find((l) => l.startsWith('writer ')) ?? '';
    for (const [col, value] of [['STATE', 'ready'], ['AGENT', 'shell'], ['MODE', 'autonomous'], ['OWNER', 'ana@example.com'], ['NETWORK', 'registry.npmjs.org']] as const) {
      expect(row.indexOf(value)).toBe(header.indexOf(col));
    }
    expect(lines.find((l) => l.startsWith('a-very-long-persona-name '))?.indexOf('claude')).toBe(header.indexOf('AGENT'));
  });

  it('audit --kind with an unknown kind: exit 2, naming the valid kinds', async () => {
    const r = await cli(h, ['audit', '--kind', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('unknown event kind "bogus"');
    for (const k of EVENT_KINDS) expect(r.stderr).toContain(k);
    expect((await cli(h, ['audit', '--kind', 'session.*'])).code).toBe(0);
    expect((await cli(h, ['audit', '--kind', 'fs.write'])).code).toBe(0);
  });

  it('a persona file without display_name is accepted: it is shown by its name', async () => {
    const v = await cli(h, ['persona', 'validate', path.join(h.home, 'personas', 'minimal.yaml')]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const r = await cli(h, ['run', 'minimal', '--', 'sh', '-c', 'echo "author: $GIT_AUTHOR_NAME"']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('author: minimal');
  });

  it('one write of a file is one event, even when it lands in many pieces', async () => {
    const script = 'f = open("pieces.txt", "w")\nfor i in range(50):\n    f.write("x" * 70000)\n    f.flush()\nf.close()';
    const r = await cli(h, ['run', 'writer', '--', 'python3', '-c', script]);
    expect(r.code).toBe(0);
    const session = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    const writes = (await audit(h, ['--session', session, '--kind', 'fs.write'])).filter((e) => e.target === path.join(h.workspace, 'pieces.txt'));
    expect(writes.map((e) => e.detail.op)).toEqual(['create']);
  });

  it('run with no command: the persona\'s interactive shell (on a terminal, and without one)', async () => {
    const s = openScreen(process.execPath, [CLI, 'run', 'writer'], {
      cwd: h.workspace, as, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, HOME: h.dir, TERM: 'xterm-256color' },
    });
    try {
      await s.waitFor(/@personae:.*[$#]$/m);
      s.type('echo "shell-$((20+1))"; exit 4\r');
      await s.waitFor(/^shell-21$/m);
      expect(await Promise.race([s.exited, new Promise((r) => setTimeout(() => r(-1), 10_000))])).toBe(4);
    } finally {
      s.kill();
    }
    const piped = await cli(h, ['run', 'writer'], { input: 'echo "piped-$((40+2))"\nexit 0\n' });
    expect(piped.stdout).toContain('piped-42');
    expect(piped.code).toBe(0);
  });
});
