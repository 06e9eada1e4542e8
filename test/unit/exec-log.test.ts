import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExecLine, parseExitLine } from '../../sandbox/intercept/exec-trace.js';

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('the exec log line', () => {
  it('decodes path, argv, pid and parent', () => {
    const line = `exec 120 119 a ${hex('/usr/bin/sh')} ${hex('sh')} ${hex('-c')} ${hex("echo 'a b'\n; x")}\n`;
    expect(parseExecLine(line)).toEqual({ pid: 120, ppid: 119, path: '/usr/bin/sh', argv: ['sh', '-c', "echo 'a b'\n; x"], truncated: false, verdict: { kind: 'allow' } });
  });

  it('keeps an empty argv and an empty argument', () => {
    expect(parseExecLine(`exec 5 4 a ${hex('/bin/true')}`)?.argv).toEqual([]);
    expect(parseExecLine(`exec 5 4 a ${hex('/bin/echo')} ${hex('echo')} `)?.argv).toEqual(['echo', '']);
  });

  it('marks cut and left-out arguments', () => {
    expect(parseExecLine(`exec 5 4 a ${hex('/bin/echo')} ${hex('echo')}~`)).toMatchObject({ argv: ['echo'], truncated: true });
    expect(parseExecLine(`exec 5 4 a ${hex('/bin/echo')} ${hex('echo')} ...`)).toMatchObject({ argv: ['echo'], truncated: true });
  });

  it('an unknown parent is undefined', () => {
    expect(parseExecLine(`exec 5 -1 a ${hex('/bin/true')}`)?.ppid).toBeUndefined();
  });

  it('decodes what the command rules decided: refused by a rule, or held by an ask rule until answered', () => {
    expect(parseExecLine(`exec 5 4 d3:${hex('git push')} ${hex('/usr/bin/git')} ${hex('git')} ${hex('push')}`)?.verdict).toEqual({ kind: 'deny', rule: 3, matchedAs: 'git push' });
    expect(parseExecLine(`exec 5 4 q0:18446744073709551615:${hex('npm publish')} ${hex('/usr/bin/npm')} ${hex('npm')}`)?.verdict).toEqual({
      kind: 'ask',
      rule: 0,
      id: '18446744073709551615',
      matchedAs: 'npm publish',
    });
    for (const bad of ['x', 'd', 'dx:00', 'd1', 'q1:2', 'q1:x:00', 'd1:0', 'a:00', 'D1:00']) {
      expect(parseExecLine(`exec 5 4 ${bad} ${hex('/bin/true')}`), bad).toBeUndefined();
    }
  });

  it('rejects anything malformed', () => {
    for (const bad of ['', 'exec', 'exec 1 2', 'exec 1 2 a', `exit 1 2 a ${hex('/x')}`, `exec x 2 a ${hex('/x')}`, `exec 0 2 a ${hex('/x')}`, 'exec 1 2 a abc', `exec 1 2 a ${hex('/x')} zz`, `exec 1 2 a ${hex('/x')} 4G`, `exec 1 2 ${hex('/x')}`]) {
      expect(parseExecLine(bad), bad).toBeUndefined();
    }
  });

  it('round-trips any argv, and never throws on random input', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.array(fc.string()), fc.integer({ min: 1, max: 2 ** 22 }), (path, argv, pid) => {
        const line = ['exec', String(pid), '1', 'a', hex(path), ...argv.map(hex)].join(' ');
        expect(parseExecLine(line)).toEqual({ pid, ppid: 1, path, argv, truncated: false, verdict: { kind: 'allow' } });
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => void parseExecLine(s)));
  });
});

describe('the exit line', () => {
  it('decodes an exit code, a signal by name, and a signal that could not be read', () => {
    expect(parseExitLine('exit 42 3\n')).toEqual({ pid: 42, code: 3, signal: undefined });
    expect(parseExitLine('exit 42 sig 9')).toEqual({ pid: 42, code: undefined, signal: 'SIGKILL' });
    expect(parseExitLine('exit 42 sig ?')).toEqual({ pid: 42, code: undefined, signal: 'unknown' });
  });

  it('rejects anything malformed', () => {
    for (const bad of ['exit', 'exit 42', 'exit x 3', 'exit 0 3', 'exit 42 sig', 'exit 42 sig x', 'exit 42 ?', 'exit 42 3 4', `exec 1 2 a ${hex('/x')}`]) {
      expect(parseExitLine(bad), bad).toBeUndefined();
    }
  });
});
