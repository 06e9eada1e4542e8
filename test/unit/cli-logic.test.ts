// Small CLI logic: aligned tables, --kind checks, the command run when none is given.
import { describe, expect, it } from 'vitest';
import { kindProblem } from '../../main/cli/audit.js';
import { alignedTable } from '../../main/cli/table.js';
import { defaultAgentCommand } from '../../main/launch.js';

describe('alignedTable', () => {
  it('pads every column to its widest cell, two spaces apart, nothing trailing', () => {
    expect(alignedTable([['NAME', 'STATE', 'NOTE'], ['a-long-name', 'ok', ''], ['b', 'suspended', 'x']])).toBe(
      'NAME         STATE      NOTE\na-long-name  ok\nb            suspended  x',
    );
  });
});

describe('kindProblem', () => {
  it('accepts known kinds and prefixes of them, and names the valid kinds otherwise', () => {
    expect(kindProblem('exec')).toBeUndefined();
    expect(kindProblem('session.*')).toBeUndefined();
    expect(kindProblem('*')).toBeUndefined();
    expect(kindProblem('bogus', ['exec', 'fs.write'])).toBe('--kind: unknown event kind "bogus"; valid kinds: exec, fs.write (or a prefix like session.*)');
    expect(kindProblem('nope.*', ['exec'])).toMatch(/unknown event kind "nope\.\*"/);
  });
});

describe('defaultAgentCommand', () => {
  it('a shell persona without a command gets an interactive shell: bash, or sh where there is no bash', () => {
    expect(defaultAgentCommand('shell', undefined, true)).toEqual(['bash', '-i']);
    expect(defaultAgentCommand('shell', undefined, false)).toEqual(['sh', '-i']);
    expect(defaultAgentCommand('shell', 'make test', true)).toEqual(['sh', '-c', 'make test']);
    expect(defaultAgentCommand('claude', undefined)).toEqual(['claude']);
  });
});
