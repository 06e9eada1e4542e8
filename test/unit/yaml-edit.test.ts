// Saving a persona edits its YAML in place: comments, key order, quoting and
// the $schema header stay; only the changed fields change.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyToYaml } from '../../main/server/yaml-edit.js';

const FILE = `# yaml-language-server: $schema=./persona.schema.json
# The night builder: runs the test suite.
version: 1
name: night  # short name
display_name: "Night builder"
owner: me@example.com
purpose: builds

filesystem:
  # where it writes
  write:
    - '{workspace}'   # the repo
    - /tmp/cache
network:
  allow: [registry.npmjs.org, github.com]
agent: shell
`;

const DATA = parse(FILE) as Record<string, unknown>;

describe('applyToYaml', () => {
  it('leaves the file byte for byte as it was when nothing changed', () => {
    expect(applyToYaml(FILE, DATA)).toBe(FILE);
  });

  it('a change of structure keeps comments, order, quoting and the header (comment spacing normalised)', () => {
    const out = applyToYaml(FILE, {
      ...DATA,
      display_name: 'Night builder 2',
      filesystem: { write: ['{workspace}', '/var/cache'] },
      network: { allow: ['registry.npmjs.org', 'github.com', 'x.org'] },
      execution_mode: 'approve',
    }) ?? '';
    expect(out).toBe(`# yaml-language-server: $schema=./persona.schema.json
# The night builder: runs the test suite.
version: 1
name: night # short name
display_name: "Night builder 2"
owner: me@example.com
purpose: builds

filesystem:
  # where it writes
  write:
    - '{workspace}' # the repo
    - /var/cache
network:
  allow: [ registry.npmjs.org, github.com, x.org ]
agent: shell
execution_mode: approve
`);
  });

  it('removes keys the data no longer has, and their comments only', () => {
    const { network: _gone, ...rest } = DATA;
    const out = applyToYaml(FILE, rest) ?? '';
    expect(out).not.toContain('network');
    expect(out).toContain('# where it writes');
    expect(parse(out)).toEqual(rest);
  });

  it('gives up (undefined) on text that is not a YAML map', () => {
    expect(applyToYaml('- a\n- b\n', { name: 'x' })).toBeUndefined();
    expect(applyToYaml('a: [\n', { name: 'x' })).toBeUndefined();
  });
});

describe('applyToYaml, values only', () => {
  it('rewrites a changed value in place: every other byte stays', () => {
    const out = applyToYaml(FILE, { ...DATA, display_name: 'Night "builder" 2', purpose: 'true', owner: 'other@example.com' }) ?? '';
    expect(out).toBe(FILE.replace('"Night builder"', '"Night \\"builder\\" 2"').replace('purpose: builds', 'purpose: "true"').replace('me@example.com', 'other@example.com'));
    expect(parse(out)).toMatchObject({ display_name: 'Night "builder" 2', purpose: 'true' });
  });
});
