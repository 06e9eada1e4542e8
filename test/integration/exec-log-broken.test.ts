// "If the exec log cannot be written, execs are refused": the supervisor's
// reading end of the exec logger's FIFO is closed from outside (gdb calls
// close() in the running supervisor, which stays frozen meanwhile), while the
// sandbox keeps trying to run programs. Judged on the host: the files those
// programs would have made, the exit statuses the sandbox saw, and the audit
// log, which holds every program that did run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, makeHome, startRun, testUsers, type Home } from './harness.js';

const ROUNDS = 20;
// Phase 1 runs ROUNDS programs, says so, and waits for "go" (no exec meanwhile); phase 2 tries ROUNDS more.
// Each program is `touch ran-PHASE-I`; an exec that fails exits its child with 100 + errno.
const AGENT = `
import json, os, sys, time
ws = sys.argv[1]
def attempt(phase):
    codes = []
    for i in range(${ROUNDS}):
        pid = os.fork()
        if pid == 0:
            try: os.execv('/usr/bin/touch', ['touch', f'{ws}/ran-{phase}-{i}'])
            except OSError as e: os._exit(100 + e.errno)
        _, st = os.waitpid(pid, 0)
        codes.append(os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1)
    return codes
def say(name, value):
    with open(f'{ws}/{name}.tmp', 'w') as f: json.dump(value, f)
    os.rename(f'{ws}/{name}.tmp', f'{ws}/{name}')
say('phase1', attempt(1))
for _ in range(1500):
    if os.path.exists(f'{ws}/go'): break
    time.sleep(0.02)
say('phase2', attempt(2))
time.sleep(20)
`;

/** The process that has `fifo` open for reading, and the descriptor: the supervisor's end of the exec log. */
function fifoReader(fifo: string): { pid: number; fd: number } | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== fifo) continue;
        const flags = Number.parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '1', 8);
        if ((flags & 3) === 0) return { pid: Number(pid), fd: Number(fd) };
      } catch {
        // gone meanwhile
      }
    }
  }
  return undefined;
}

async function until<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const gdb = spawnSync('gdb', ['--version'], { encoding: 'utf8' });
if (gdb.status !== 0) throw new Error('exec-log-broken.test.ts needs gdb to close the supervisor\'s FIFO from outside: apt-get install gdb');

for (const as of testUsers()) {
  describe(`a broken exec log, as ${as.label}`, () => {
    let h: Home;
    beforeAll(() => {
      h = makeHome(as);
      h.writePersona({ name: 'breaker', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
    });
    afterAll(() => h.cleanup());

    it("once the log's reading end is gone, every exec is refused, and every program that ran is on the record", async () => {
      const ws = h.workspace;
      const run = await startRun(h, ['breaker', '--', 'python3', '-c', AGENT, ws], { timeoutMs: 60_000 });
      const phase1 = await until('phase 1', 20_000, () => (existsSync(`${ws}/phase1`) ? (JSON.parse(readFileSync(`${ws}/phase1`, 'utf8')) as number[]) : undefined));
      expect(phase1).toEqual(Array<number>(ROUNDS).fill(0));
      // The supervisor has read the log up to here: phase 1's execs are all in the audit log.
      const touches = async (): Promise<string[]> =>
        (await audit(h, ['--session', run.session, '--kind', 'exec'])).filter((e) => e.tool === 'touch').map((e) => String((e.detail.argv as string[])[1]));
      await until('phase 1 on the record', 10_000, async () => ((await touches()).length === ROUNDS ? true : undefined));

      const fifo = path.join(h.home, 'run', run.session.replace(/-/g, '').slice(0, 12), 'exec.fifo');
      const reader = fifoReader(fifo);
      expect(reader, `no process reads ${fifo}`).toBeDefined();
      // Freeze the supervisor, close its end, let the sandbox run phase 2 while it stays frozen, then let it go.
      const wait = `for i in $(seq 500); do test -e ${ws}/phase2 && break; sleep 0.02; done`;
      const g = spawnSync('gdb', ['-p', String(reader?.pid), '-batch', '-nx', '-ex', `call (int)close(${reader?.fd})`, '-ex', `shell touch ${ws}/go`, '-ex', `shell ${wait}`], { encoding: 'utf8', timeout: 30_000 });
      expect(g.stdout, g.stderr).toMatch(/\$1 = 0/);

      const phase2 = JSON.parse(readFileSync(`${ws}/phase2`, 'utf8')) as number[];
      expect(phase2).toEqual(Array<number>(ROUNDS).fill(101)); // 100 + EPERM: refused, every one
      const made = readdirSync(ws).filter((f) => f.startsWith('ran-'));
      expect(made.sort()).toEqual(Array.from({ length: ROUNDS }, (_, i) => `ran-1-${i}`).sort());

      // The supervisor, let go, finds its log gone and stops the session: fail closed, and said so.
      const r = await run.done;
      // Which failure the supervisor meets first depends on timing: its read failing, or the logger ending without "end".
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(/ended: failure \((exec tracer failed|the exec logger stopped)/);
      const events = await audit(h, ['--session', run.session]);
      const errors = events.filter((e) => e.kind === 'error').map((e) => e.reason ?? '');
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => /^(exec tracer failed|the exec logger stopped)/.test(e)), errors.join('; ')).toBe(true);
      expect(events.find((e) => e.kind === 'session.end')?.reason).toBe('failure');
      // Everything that ran is recorded (phase 1's 20 programs and the agent itself), nothing else.
      expect((await touches()).sort()).toEqual(made.map((f) => `${ws}/${f}`).sort());
      expect(events.filter((e) => e.kind === 'exec').map((e) => e.tool).sort()).toEqual(['python3', ...Array<string>(ROUNDS).fill('touch')]);
    }, 90_000);
  });
}
