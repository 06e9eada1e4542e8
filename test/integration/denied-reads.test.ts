// Denied reads on the record: an attempt on each kind of hidden path (a
// read_deny directory and file inside the workspace, the home directories,
// other personas' data in personae's own home) is an fs.read deny event
// naming the path, the program and the persona, and the morning review shows
// it. The canaries sit where the sandbox could otherwise see them (the
// workspace), and a persona without read_deny reads them, so the test fails
// if the hiding goes.
import { mkdirSync, writeFileSync, chownSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../main/server/server.js';
import type { Review } from '../../main/api/contract.js';
import { raw } from './api-harness.js';
import { audit, cli, makeHome, ROOT, testUsers, type Home } from './harness.js';

for (const as of testUsers()) {
  describe(`denied reads on the record, as ${as.label}`, () => {
    let h: Home;
    let session = '';
    let out = '';
    const put = (p: string, text: string): void => {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, text);
      if (as.uid !== undefined) for (let d = p; d.startsWith(h.dir) && d !== h.dir; d = path.dirname(d)) chownSync(d, as.uid, as.gid ?? as.uid);
    };

    beforeAll(async () => {
      h = makeHome(as);
      put(path.join(h.workspace, 'secret', 'canary.txt'), 'CANARY-DIR-3318');
      put(path.join(h.workspace, 'loose-secret.txt'), 'CANARY-FILE-7702');
      // The CLI's HOME is h.dir: a home directory, hidden from every persona.
      put(h.path('outside-canary.txt'), 'CANARY-HOME-5561');
      // Another persona's home and personae's secrets, in PERSONAE_HOME.
      put(path.join(h.home, 'homes', 'other', 'notes.txt'), 'CANARY-OTHER-4490');
      const common = { agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } };
      h.writePersona({ ...common, name: 'reader', filesystem: { write: ['{workspace}'], read_deny: ['{workspace}/secret', '{workspace}/loose-secret.txt'] } });
      h.writePersona({ ...common, name: 'open-reader' });
      const script = [
        `cat ${h.workspace}/secret/canary.txt`,
        `ls ${h.workspace}/secret`,
        `cat ${h.workspace}/loose-secret.txt`,
        `cat ${h.path('outside-canary.txt')}`,
        `cat ${h.home}/homes/other/notes.txt`,
        `ls ${h.home}/homes`,
        'echo finished',
      ].join('; ');
      const r = await cli(h, ['run', 'reader', '--', 'sh', '-c', `${script} 2>&1`]);
      out = r.stdout;
      session = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
    });
    afterAll(() => h.cleanup());

    it('the canaries are visible without read_deny (so their absence below is the rule at work)', async () => {
      const r = await cli(h, ['run', 'open-reader', '--', 'sh', '-c', `cat ${h.workspace}/secret/canary.txt ${h.workspace}/loose-secret.txt`]);
      expect(r.stdout).toBe('CANARY-DIR-3318CANARY-FILE-7702');
    });

    it('hides every kind of hidden path', () => {
      expect(out).toContain('finished');
      for (const c of ['CANARY-DIR', 'CANARY-FILE', 'CANARY-HOME', 'CANARY-OTHER']) expect(out).not.toContain(c);
    });

    it('records each attempt as an fs.read deny event: the path, the program, the rule, the persona', async () => {
      const reads = await audit(h, ['--session', session, '--kind', 'fs.read']);
      const seen = reads.map((e) => [e.target, e.tool, e.detail.op, e.decision]);
      expect(seen).toEqual(
        expect.arrayContaining([
          [`${h.workspace}/secret/canary.txt`, 'cat', 'lookup', 'deny'],
          [`${h.workspace}/secret`, 'ls', 'list', 'deny'],
          [`${h.workspace}/loose-secret.txt`, 'cat', 'open', 'deny'],
          [h.path('outside-canary.txt'), 'cat', 'lookup', 'deny'],
          [`${h.home}/homes/other`, 'cat', 'lookup', 'deny'],
          [`${h.home}/homes`, 'ls', 'list', 'deny'],
        ]),
      );
      const reason = (target: string): string | null | undefined => reads.find((e) => e.target === target)?.reason;
      expect(reason(`${h.workspace}/secret/canary.txt`)).toBe(`filesystem.read_deny: ${h.workspace}/secret`);
      expect(reason(`${h.workspace}/loose-secret.txt`)).toBe(`filesystem.read_deny: ${h.workspace}/loose-secret.txt`);
      expect(reason(h.path('outside-canary.txt'))).toBe('home directories are hidden from every persona');
      expect(reason(`${h.home}/homes/other`)).toMatch(/^personae's own data/);
      expect(reads.every((e) => e.persona === 'reader' && e.session === session)).toBe(true);
      // Only attempts: the sandbox's own set-up, and names that exist nowhere, are not denied reads.
      expect(reads.some((e) => (e.target ?? '').endsWith('/ws'))).toBe(false);
    });

    it('the morning review shows them', async () => {
      const b = await startBackend({ home: h.home, rendererDir: path.join(ROOT, 'dist', 'renderer'), onBehalfOf: 'tester', workspace: h.workspace, version: 'test' });
      try {
        const review = (await raw(b, '/api/review?since=1h')).json<Review>();
        const reader = review.personas.find((p) => p.persona === 'reader');
        expect(reader?.denied_calls.filter((e) => e.kind === 'fs.read').map((e) => e.target)).toEqual(expect.arrayContaining([h.path('outside-canary.txt'), `${h.workspace}/loose-secret.txt`]));
      } finally {
        await b.close();
      }
    });
  });
}

describe('without FUSE (a machine where /dev/fuse cannot be used)', () => {
  // Only root can hide /dev/fuse from the CLI (a mount namespace of its own with /dev/null bound over it).
  const root = process.getuid?.() === 0;
  it.runIf(root)('the paths stay hidden, the workspace inside a hidden home still works, and an event says attempts go unrecorded', async () => {
    const h = makeHome();
    try {
      // The CLI's HOME (h.dir) is a hidden home, and the workspace is inside it: the skeleton must still be there.
      writeFileSync(h.path('outside-canary.txt'), 'CANARY-NOFUSE-2231');
      h.writePersona({ name: 'nofuse', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
      const wrap = ['unshare', '--mount', 'sh', '-c', 'mount --bind /dev/null /dev/fuse && exec "$@"', 'personae'];
      const r = await cli(h, ['run', 'nofuse', '--', 'sh', '-c', `cat ${h.path('outside-canary.txt')} 2>&1; echo ok > ${h.workspace}/written.txt; echo done`], { wrap });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('done');
      expect(r.stdout).not.toContain('CANARY-NOFUSE');
      const session = /session ([0-9a-f-]{36})/.exec(r.stderr)?.[1] ?? '';
      const events = await audit(h, ['--session', session]);
      expect(events.filter((e) => e.kind === 'fs.read')).toEqual([]);
      expect(events.find((e) => e.kind === 'error' && e.target === 'tripwires')?.reason).toMatch(/^denied reads go unrecorded in this session: cannot mount a FUSE file system: .* \(the paths stay hidden\)$/);
    } finally {
      h.cleanup();
    }
  });
});

