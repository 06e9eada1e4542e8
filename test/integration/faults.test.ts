// Faults: the CLI killed with SIGKILL mid-session, and a full disk. The audit
// database must open clean with everything acknowledged before the fault, and
// no sandboxed process may survive.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { audit, CLI, cli, countEvents, makeHome, processesMatching, testUsers, type Home, type RunAs } from './harness.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('faults', () => {
  let h: Home;
  beforeAll(() => {
    h = makeHome();
    h.writePersona({ name: 'loud', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
  });
  afterAll(() => h.cleanup());

  it('SIGKILL of the CLI mid-session: the database opens clean, acknowledged events are kept, nothing survives', async () => {
    const marker = `faultmark${Math.floor(Math.random() * 1e6)}`;
    // Over 1,000 events/s: every file written is an fs.write event (no exec, so tracing does not slow it down).
    const child = spawn(process.execPath, [CLI, 'run', 'loud', '--', 'bash', '-c', `sleep 3000 & exec -a ${marker} bash -c 'i=0; while :; do i=$((i+1)); echo x > f$((i % 5000)); done'`], {
      cwd: h.workspace,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, HOME: h.dir },
      stdio: 'ignore',
    });
    // Whatever happens below, the CLI is killed: a failed assertion must not leave a session running.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const db = path.join(h.home, 'audit.db');
    let before = 0;
    const deadline = Date.now() + 30_000;
    while (before < 1500 && Date.now() < deadline) {
      await sleep(200);
      try {
        before = countEvents(db);
      } catch {
        // not created yet
      }
    }
    expect(before).toBeGreaterThanOrEqual(1500);
    // What another reader saw committed is acknowledged: it must survive the kill.
    before = countEvents(db);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const gone = Date.now() + 5000;
    while (processesMatching(marker).length > 0 && Date.now() < gone) await sleep(50);
    expect(processesMatching(marker)).toEqual([]);
    expect(processesMatching('^sleep 3000$').filter((pid) => spawnSync('cat', [`/proc/${pid}/environ`]).stdout.toString().includes(h.home))).toEqual([]);
    const conn = new Database(db);
    expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
    conn.close();
    expect(countEvents(db)).toBeGreaterThanOrEqual(before);
    // And the CLI works on it afterwards.
    expect((await cli(h, ['audit', '--persona', 'loud', '--limit', '5'])).code).toBe(0);
    // The killed supervisor never cleaned up: its placeholders are still in the workspace.
    expect(existsSync(path.join(h.workspace, '.vscode'))).toBe(true);
    // The next session, alone, removes them and the dead session's run directory.
    expect((await cli(h, ['run', 'loud', '--', 'true'])).code).toBe(0);
    expect(['.vscode', '.idea', '.claude'].filter((p) => existsSync(path.join(h.workspace, p)))).toEqual([]);
    expect(readdirSync(path.join(h.home, 'run'))).toEqual([]);
    // Its record is ended once a personae process looks (ps here): not "running" for good.
    expect((await cli(h, ['ps'])).code).toBe(0);
    const ends = await audit(h, ['--persona', 'loud', '--kind', 'session.end']);
    const orphan = ends.find((e) => (e.detail as { supervisor?: string }).supervisor === 'gone');
    expect(orphan?.reason).toBe('failure');
    const conn2 = new Database(db, { readonly: true });
    const open = conn2.prepare('SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL').get() as { n: number };
    conn2.close();
    expect(open.n).toBe(0);
  }, 90_000);

  it('placeholders left while another session runs are removed by the last session to end', async () => {
    const other = h.path('ws-other');
    mkdirSync(other);
    const long = spawn(process.execPath, [CLI, 'run', 'loud', '--workspace', other, '--', 'sleep', '3'], {
      cwd: other,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, HOME: h.dir },
      stdio: 'ignore',
    });
    onTestFinished(() => {
      if (long.exitCode === null && long.signalCode === null) long.kill('SIGKILL');
    });
    const deadline = Date.now() + 10_000;
    while (!existsSync(path.join(other, '.vscode')) && Date.now() < deadline) await sleep(50);
    expect(existsSync(path.join(other, '.vscode'))).toBe(true);
    // A short session ends while the long one runs: it must not remove its placeholders
    // (the long sandbox could have mounted over one); they stay, listed for later.
    expect((await cli(h, ['run', 'loud', '--', 'true'])).code).toBe(0);
    expect(existsSync(path.join(h.workspace, '.vscode'))).toBe(true);
    expect(await new Promise((r) => long.once('exit', r))).toBe(0);
    // The long session ended last, alone: both sessions' placeholders are gone.
    for (const ws of [h.workspace, other]) expect(['.vscode', '.idea', '.claude'].filter((p) => existsSync(path.join(ws, p)))).toEqual([]);
    expect(readdirSync(path.join(h.home, 'run'))).toEqual([]);
  }, 60_000);

  /** A fresh home with the loud persona; afterwards, no process of it may be left (bounded wait). */
  async function inFreshHome(as: RunAs, body: (g: Home) => Promise<void>): Promise<void> {
    const g = makeHome(as);
    try {
      g.writePersona({ name: 'loud', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
      await body(g);
      const gone = Date.now() + 5000;
      while (processesMatching(g.home).length > 0 && Date.now() < gone) await sleep(50);
      expect(processesMatching(g.home)).toEqual([]);
    } finally {
      g.cleanup();
    }
  }

  for (const as of testUsers()) {
    it(`SIGKILL of the CLI at any moment of its start leaves no sandbox process behind (as ${as.label})`, () =>
      inFreshHome(as, async (g) => {
        // Staggered over the start (the spawn comes ~80 ms in, bwrap sets up for ~20 ms after).
        for (let i = 0; i < 24; i++) {
          const child = spawn(process.execPath, [CLI, 'run', 'loud', '--', 'sleep', '30'], {
            cwd: g.workspace,
            env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: g.home, HOME: g.dir },
            stdio: 'ignore',
            ...(as.uid !== undefined ? { uid: as.uid, gid: as.gid ?? as.uid } : {}),
          });
          await sleep(40 + i * 7);
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
        }
      }), 60_000);

    it(`a start that fails after the sandbox is spawned (an unreadable audit log) leaves no process behind (as ${as.label})`, () =>
      inFreshHome(as, async (g) => {
        writeFileSync(path.join(g.home, 'audit.db'), 'this is not a database');
        if (as.uid !== undefined) chownSync(path.join(g.home, 'audit.db'), as.uid, as.gid ?? as.uid);
        // The store opens while the sandbox sets itself up, so it fails with bwrap mid-way: several times, to meet the race.
        for (let i = 0; i < 5; i++) {
          const r = await cli(g, ['run', 'loud', '--', 'echo', 'MUST-NOT-RUN']);
          expect(r.code).not.toBe(0);
          expect(r.stdout).not.toContain('MUST-NOT-RUN');
          expect(r.stderr.trim().split('\n')).toEqual(['personae: file is not a database']);
        }
      }), 60_000);
  }

  it.runIf(process.getuid?.() === 0)('disk full: the session stops itself with a clear error and the log stays intact', async () => {
    const small = h.path('small');
    mkdirSync(small);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', small]).status).toBe(0);
    try {
      const home = path.join(small, 'home');
      mkdirSync(path.join(home, 'personas'), { recursive: true });
      const env = { PERSONAE_HOME: home };
      spawnSync('cp', [path.join(h.home, 'personas', 'loud.yaml'), path.join(home, 'personas')]);
      // Fill the small disk from outside while the session keeps producing events.
      const r = await cli(h, ['run', 'loud', '--', 'bash', '-c', `while :; do /bin/true; done`], {
        env,
        timeoutMs: 40_000,
        onStderr: (t) => {
          if (t.includes('session ')) spawnSync('sh', ['-c', `dd if=/dev/zero of=${small}/filler bs=64k 2>/dev/null; true`]);
        },
      });
      expect(r.stderr).toMatch(/audit log cannot be written/);
      expect(r.code).not.toBe(0);
      spawnSync('rm', ['-f', `${small}/filler`]);
      const conn = new Database(path.join(home, 'audit.db'));
      expect(conn.pragma('integrity_check', { simple: true })).toBe('ok');
      conn.close();
    } finally {
      spawnSync('umount', ['-l', small]);
    }
  }, 60_000);
});
