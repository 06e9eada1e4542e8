// Bad input gets one clear line and a non-zero exit, and nothing runs.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeHome, type Home } from './harness.js';

describe('refusals', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
    h.writePersona({ name: 'ok', agent: 'shell', filesystem: { write: ['{workspace}'] } });
    h.writePersona({ name: 'old', agent: 'shell', expires: '2020-01-31', filesystem: { write: ['{workspace}'] } });
    h.writePersona({ name: 'needy', agent: 'shell', filesystem: { write: ['{workspace}'] }, credentials: { TOKEN: { secret: 'never-set', inject: 'env' } } });
    writeFileSync(path.join(h.home, 'personas', 'broken.yaml'), 'version: 1\nname: broken\nnetwork:\n  allow: ["*.com"]\nfilesystem:\n  wirte: []\n');
  });
  afterAll(() => h.cleanup());

  const touch = (name: string): string[] => ['--', 'sh', '-c', `touch ${name}`];
  const oneLine = (stderr: string): string[] => stderr.split('\n').filter((l) => l.trim() !== '');

  it('an invalid persona file: one line per problem naming the file and field, no stack trace', async () => {
    const r = await cli(h, ['run', 'broken', ...touch('ran-broken')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('broken.yaml: network.allow[0]: "*.com" is too broad');
    expect(r.stderr).toMatch(/filesystem\.wirte.*did you mean "write"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(h.workspace, 'ran-broken'))).toBe(false);
  });

  it('an unknown persona', async () => {
    const r = await cli(h, ['run', 'nobody', ...touch('ran-nobody')]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('unknown persona "nobody"');
  });

  it('an expired persona', async () => {
    const r = await cli(h, ['run', 'old', ...touch('ran-old')]);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('expired on 2020-01-31');
    expect(existsSync(path.join(h.workspace, 'ran-old'))).toBe(false);
  });

  it('a missing secret', async () => {
    const r = await cli(h, ['run', 'needy', ...touch('ran-needy')]);
    expect(r.code).toBe(3);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('personae secret set never-set');
    expect(existsSync(path.join(h.workspace, 'ran-needy'))).toBe(false);
  });

  it('a missing bwrap or socat: refuse with the fix, never run unsandboxed', async () => {
    const envs: Record<string, string>[] = [{ PERSONAE_BWRAP: '/nonexistent/bwrap' }, { PERSONAE_SOCAT: '/nonexistent/socat' }];
    for (const env of envs) {
      const r = await cli(h, ['run', 'ok', ...touch('ran-unsandboxed')], { env });
      expect(r.code).toBe(3);
      expect(oneLine(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/cannot sandbox: (bwrap|socat) not found; install it with: .*apt-get install -y bubblewrap socat/);
      expect(existsSync(path.join(h.workspace, 'ran-unsandboxed'))).toBe(false);
    }
  });

  it('a suspended persona refuses to run until resumed', async () => {
    expect((await cli(h, ['persona', 'suspend', 'ok'])).code).toBe(0);
    const r = await cli(h, ['run', 'ok', ...touch('ran-suspended')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('suspended');
    expect(existsSync(path.join(h.workspace, 'ran-suspended'))).toBe(false);
    expect((await cli(h, ['persona', 'resume', 'ok'])).code).toBe(0);
    expect((await cli(h, ['run', 'ok', ...touch('ran-resumed')])).code).toBe(0);
    expect(existsSync(path.join(h.workspace, 'ran-resumed'))).toBe(true);
  });

  it('bad CLI usage', async () => {
    expect((await cli(h, ['run'])).code).toBe(2);
    expect((await cli(h, ['audit', '--format', 'xml'])).code).toBe(2);
    expect((await cli(h, ['audit', '--since', 'next tuesday-ish'])).code).toBe(2);
    expect((await cli(h, ['stop'])).code).toBe(2);
  });

  it('secrets: names listed, values never printed, stored 0600', async () => {
    expect((await cli(h, ['secret', 'set', 'gh'], { input: 'value-123\n' })).code).toBe(0);
    const list = await cli(h, ['secret', 'list']);
    expect(list.stdout).toBe('gh\n');
    expect(list.stdout + list.stderr).not.toContain('value-123');
    expect((await cli(h, ['secret', 'rm', 'gh'])).code).toBe(0);
    expect((await cli(h, ['secret', 'rm', 'gh'])).code).toBe(1);
  });
});
