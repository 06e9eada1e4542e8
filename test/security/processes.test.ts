// Escape suite, processes: the sandbox's own pid namespace (pid 1 and host
// processes invisible), no way to reach other processes' memory (ptrace,
// /proc/PID/mem of the sandbox's own unfiltered helpers included), no mount,
// unshare, setns, chroot, keyrings, BPF or io_uring, no new privileges, no
// capabilities; and nothing survives `personae stop`: background, setsid,
// double-forked, SIGTERM-ignoring processes and a bounded flood of 500.
// Judged from outside: a host marker process stays invisible, host process
// lists (pgrep) are empty after the stop, and the stop is recorded verified.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, makeVisibleHome, marker, missing, processesMatching, runEnv, sandbox, sessionEvents, startRun, succeeded, testUsers, until, type Home } from './lib.js';

for (const as of testUsers()) {
  describe(`processes, as ${as.label}`, () => {
    let h: Home;
    let hostProc: ChildProcess;
    const hostMarker = `${marker()}7`;

    beforeAll(() => {
      h = makeVisibleHome(as);
      h.writePersona({ name: 'procs', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
      // A host process with a recognisable command line: it must be invisible inside.
      hostProc = spawn('sleep', [hostMarker], { stdio: 'ignore' });
    });

    afterAll(() => {
      hostProc.kill('SIGKILL');
      h.cleanup();
    });

    it('sees only its own processes and can neither trace, read nor remount anything', async () => {
      expect(processesMatching(`^sleep ${hostMarker}$`).length).toBe(1);
      const py = (code: string): string => `python3 -c '
import ctypes, ctypes.util, os, sys
libc = ctypes.CDLL(None, use_errno=True)
${code}
'`;
      const s = `
say pid1 "$(tr '\\0' ' ' < /proc/1/cmdline | cut -c1-40)"
say host_visible "$(python3 -c '
import glob, sys
want = b"sleep\\0" + sys.argv[1].encode() + b"\\0"
print(sum(1 for p in glob.glob("/proc/[0-9]*/cmdline") if open(p, "rb").read() == want))
' ${hostMarker})"
say nprocs "$(ls -d /proc/[0-9]* | wc -l)"
say status "$(grep -E '^(NoNewPrivs|Seccomp|CapEff|CapPrm|CapBnd|CapAmb):' /proc/self/status | tr -d ' \\t' | tr '\\n' ,)"
bridge=$(pgrep -o socat)
t mem1_read sh -c 'head -c 1 /proc/1/mem'
t mem1_open ${py('open("/proc/1/mem", "r+b")')}
t mem_bridge ${py('open("/proc/%s/mem" % sys.argv[1], "r+b")')} $bridge
t environ1 cat /proc/1/environ
t environ_bridge cat /proc/$bridge/environ
t ptrace_bridge ${py('sys.exit(0 if libc.ptrace(16, int(sys.argv[1]), 0, 0) == 0 else 1)')} $bridge
sleep 5 & child=$!
t ptrace_child ${py('sys.exit(0 if libc.ptrace(16, int(sys.argv[1]), 0, 0) == 0 else 1)')} $child
kill $child
t strace strace -f -o /dev/null -p 1
t vm_read ${py('buf = ctypes.create_string_buffer(8); sys.exit(0 if libc.process_vm_readv(1, 0, 0, 0, 0, 0) >= 0 else 1)')}
t mount mount -t tmpfs none /mnt
t mount_py ${py('sys.exit(0 if libc.mount(b"none", b"/mnt", b"tmpfs", 0, None) == 0 else 1)')}
t umount umount -l /proc
t unshare unshare -r true
t unshare_user ${py('sys.exit(0 if libc.unshare(0x10000000) == 0 else 1)')}
t unshare_mnt ${py('sys.exit(0 if libc.unshare(0x00020000) == 0 else 1)')}
t setns ${py('fd = os.open("/proc/1/ns/mnt", os.O_RDONLY); sys.exit(0 if libc.setns(fd, 0) == 0 else 1)')}
t chroot ${py('sys.exit(0 if libc.chroot(b"/tmp") == 0 else 1)')}
t keyctl ${py('sys.exit(0 if libc.syscall(250, 0, -3) >= 0 else 1)')}
t bpf ${py('sys.exit(0 if libc.syscall(321, 0, None, 0) >= 0 else 1)')}
t io_uring ${py('p = ctypes.create_string_buffer(120); sys.exit(0 if libc.syscall(425, 4, p) >= 0 else 1)')}
t userfaultfd ${py('sys.exit(0 if libc.syscall(323, 0) >= 0 else 1)')}
t perf ${py('sys.exit(0 if libc.syscall(298, None, 0, -1, -1, 0) >= 0 else 1)')}
t kill_host sh -c 'kill -0 ${hostProc.pid}'
t setuid0 ${py('sys.exit(0 if os.getuid() != 0 and libc.setuid(0) == 0 else 1)')}
t sysrq sh -c 'echo h > /proc/sysrq-trigger'
t sysctl sh -c 'echo 1 > /proc/sys/kernel/sysrq'
t cgroup sh -c 'mkdir /sys/fs/cgroup/personae-escape'
`;
      const r = await sandbox(h, 'procs', s);
      const names = [
        'mem1_read', 'mem1_open', 'mem_bridge', 'environ1', 'environ_bridge', 'ptrace_bridge', 'ptrace_child', 'strace', 'vm_read', 'mount', 'mount_py', 'umount',
        'unshare', 'unshare_user', 'unshare_mnt', 'setns', 'chroot', 'keyctl', 'bpf', 'io_uring', 'userfaultfd', 'perf', 'kill_host', 'setuid0', 'sysrq', 'sysctl', 'cgroup',
      ];
      expect(missing(r, names)).toEqual([]);
      expect(succeeded(r, names)).toEqual([]);
      // pid 1 is the sandbox's own init, and the host's processes are not there at all.
      expect(r.marks.pid1).toMatch(/bwrap/);
      expect(r.marks.host_visible).toBe('0');
      expect(Number(r.marks.nprocs)).toBeLessThan(30);
      expect(r.marks.status).toContain('NoNewPrivs:1');
      expect(r.marks.status).toContain('Seccomp:2');
      for (const cap of ['CapEff', 'CapPrm', 'CapBnd', 'CapAmb']) expect(r.marks.status).toContain(`${cap}:0000000000000000`);
      // Judged from outside: the host process is alive and untouched.
      expect(processesMatching(`^sleep ${hostMarker}$`).length).toBe(1);
      const events = await sessionEvents(h, r.session);
      expect(events.some((e) => e.kind === 'exec' && e.tool === 'mount' && e.persona === 'procs')).toBe(true);
      expect(events.some((e) => e.kind === 'exec' && e.tool === 'unshare' && e.persona === 'procs')).toBe(true);
    });

    /** Starts `script`, waits (bounded) until `expected` host processes match `pattern`, stops, verifies from outside. */
    const floodAndStop = async (script: string, pattern: string, expected: number, waitMs: number): Promise<void> => {
      const run = await startRun(h, ['procs', '--', 'sh', '-c', script], { env: runEnv(h), timeoutMs: waitMs + 40_000 });
      try {
        // Judged from outside: every process exists on the host...
        expect(await until(() => processesMatching(pattern).length >= expected, waitMs, 100)).toBe(true);
        const stop = await cli(h, ['stop', run.session.slice(0, 8)], { env: runEnv(h), timeoutMs: 20_000 });
        expect(stop.code).toBe(0);
        expect(stop.stderr).toContain('verified');
        const result = await run.done;
        expect(result.code).not.toBe(0);
        // ...and none after the stop.
        expect(processesMatching(pattern)).toEqual([]);
        const events = await sessionEvents(h, run.session);
        expect(events.some((e) => e.kind === 'stop' && e.detail.verified === true && e.persona === 'procs')).toBe(true);
      } finally {
        // Never leave processes behind, whatever failed above.
        await cli(h, ['stop', '--all'], { env: runEnv(h), timeoutMs: 20_000 });
        await run.done;
      }
    };

    it('leaves nothing alive after stop: background, setsid, double-forked, nohup and TERM-ignoring processes', async () => {
      const m = marker();
      const s = `
sleep ${m}1 &
setsid sleep ${m}2 &
(sleep ${m}3 &)
nohup sleep ${m}4 >/dev/null 2>&1 &
(trap '' TERM HUP; setsid sh -c 'trap "" TERM HUP; exec sleep ${m}5' &)
python3 -c 'import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "${m}6"])
    os._exit(0)
'
exec sleep ${m}0
`;
      await floodAndStop(s, `^sleep ${m}`, 7, 20_000);
    }, 60_000);

    it('leaves nothing alive after stop: a bounded flood of 500 processes', async () => {
      const m = marker();
      const s = `exec python3 -c '
import os, sys, time
for i in range(500):
    if os.fork() == 0:
        time.sleep(3600)
        os._exit(0)
time.sleep(3600)
' flood-${m}`;
      await floodAndStop(s, `^python3 -c .*flood-${m}$`, 501, 30_000);
    }, 60_000);
  });
}
