import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loopbackListeners, watchBridges } from '../../sandbox/launch/bridge-watch.js';

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0C38 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4639186 1 00000000c190263b 100 0 0 10 0
   1: 0100007F:0C39 0100007F:826A 06 00000000:00000000 03:0000176F 00000000     0        0 0 3 00000000d725f538
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4639190 1 0000000064cfc650 100 0 0 10 0
`;

describe('loopbackListeners', () => {
  it('keeps listening sockets on 127.0.0.1 only, by port, with their inode', () => {
    expect([...loopbackListeners(TABLE)]).toEqual([[3128, '4639186']]);
  });

  it('an empty or garbled table has none', () => {
    expect(loopbackListeners('').size).toBe(0);
    expect(loopbackListeners('header\nnot a table\n').size).toBe(0);
  });
});

describe('watchBridges, against real listeners (in this network namespace)', () => {
  /** A process listening on 127.0.0.1:`port` (0: any); resolves with it and its port. */
  const listener = async (port = 0): Promise<{ proc: ChildProcess; port: number }> => {
    const proc = spawn(process.execPath, ['-e', `const s = require('net').createServer().listen(${port}, '127.0.0.1', () => console.log(s.address().port)); setTimeout(() => {}, 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const p = await new Promise<number>((resolve) => proc.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    return { proc, port: p };
  };
  const gone = (proc: ChildProcess): Promise<void> => new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
  const until = async (probe: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!probe() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return probe();
  };

  it('says once when the process holding a bridge dies, and nothing while it lives', async () => {
    const a = await listener();
    const b = await listener();
    const reports: string[] = [];
    const bridges = [{ port: a.port, name: 'a', consequence: 'x' }, { port: b.port, name: 'b', consequence: 'y' }];
    // The "sandbox init" is this test's process: both listeners are its children.
    const stop = watchBridges(() => process.pid, () => true, bridges, (br) => reports.push(br.name), 20);
    try {
      await new Promise((r) => setTimeout(r, 150));
      expect(reports).toEqual([]);
      a.proc.kill('SIGKILL');
      await gone(a.proc);
      expect(await until(() => reports.length > 0, 3000)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(reports).toEqual(['a']);
    } finally {
      stop();
      a.proc.kill('SIGKILL');
      b.proc.kill('SIGKILL');
    }
  });

  it('a listener found but not its holder is watched through the table: a replaced one counts as gone', async () => {
    const a = await listener();
    const reports: string[] = [];
    const sleeper = spawn('sleep', ['30']);
    // The "sandbox init" is a process that does not hold the socket, nor has a child that does.
    const stop = watchBridges(() => sleeper.pid, () => true, [{ port: a.port, name: 'a', consequence: 'x' }], (br) => reports.push(br.name), 20);
    try {
      await new Promise((r) => setTimeout(r, 120));
      expect(reports).toEqual([]);
      a.proc.kill('SIGKILL');
      await gone(a.proc);
      const again = await listener(a.port);
      try {
        expect(await until(() => reports.length > 0, 3000)).toBe(true);
        expect(reports).toEqual(['a']);
      } finally {
        again.proc.kill('SIGKILL');
      }
    } finally {
      stop();
      sleeper.kill('SIGKILL');
    }
  });
});
