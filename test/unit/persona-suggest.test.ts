// Learning grants from recorded events, as data; the YAML round-trips.
import { describe, expect, it } from 'vitest';
import { describeGrants, diffPersonas, formatChange } from '../../personas/diff.js';
import { parsePersonaText } from '../../personas/loader.js';
import { PersonaSchema } from '../../personas/schema.js';
import { findSecretLike } from '../../personas/secret-scan.js';
import type { AuditEvent } from '../../sandbox/audit/event.js';
import { commandRule, suggestPersona } from '../../sandbox/policy/suggest.js';
import { suggestionToYaml } from '../../sandbox/policy/suggest-yaml.js';

let n = 0;
const ev = (session: string, over: Partial<AuditEvent>): AuditEvent => ({
  id: `e${++n}`, ts: '2026-03-01T10:00:00.000Z', session, persona: 'learner', agent: { kind: 'shell', version: null }, on_behalf_of: 'alice',
  kind: 'exec', tool: null, target: null, decision: null, reason: null, detail: {}, ...over,
});
const current = PersonaSchema.parse({
  version: 1, name: 'learner', display_name: 'Learner', owner: 'team@example.com', purpose: 'learning', agent: 'shell', execution_mode: 'observe',
  filesystem: { write: ['{workspace}'], read_deny: ['~/.ssh'] }, network: { deny: ['evil.example.com'] }, tools: { deny: ['Bash(git push:*)'] },
  credentials: { GITHUB_TOKEN: { secret: 'gh', inject: 'env' } },
});
const session = (id: string, events: Array<Partial<AuditEvent>>) => ({ id, workspace: '/ws', events: events.map((e) => ev(id, e)) });

describe('commandRule', () => {
  it('names the program, with its subcommand for git-like tools', () => {
    expect(commandRule(['/usr/bin/git', 'push', 'origin'])).toBe('Bash(git push:*)');
    expect(commandRule(['git', '--version'])).toBe('Bash(git:*)');
    expect(commandRule(['ls', '-la'])).toBe('Bash(ls:*)');
    expect(commandRule(['$(x)'])).toBeUndefined();
  });
});

describe('suggestPersona', () => {
  const common = [
    { kind: 'net.connect' as const, target: 'api.github.com:443', decision: 'deny' as const, reason: 'no network.allow rule matches' },
    { kind: 'fs.write' as const, target: '/ws/src/a.ts', detail: { op: 'modify' } },
    { kind: 'exec' as const, detail: { path: '/usr/bin/npm', argv: ['npm', 'test'] } },
    { kind: 'exec' as const, detail: { path: '/run/personae/hooks/personae-hook', argv: ['personae-hook', 'PreToolUse'] } },
  ];
  const s = suggestPersona({
    current,
    sessions: [
      session('s1', [...common, { kind: 'net.connect', target: 'once.example.org:443', decision: 'deny' }, { kind: 'fs.write', target: '/etc/motd' }]),
      session('s2', [
        ...common,
        { kind: 'net.connect', target: 'evil.example.com:443', decision: 'deny', reason: 'network.deny: evil.example.com' },
        { kind: 'net.connect', target: '10.0.0.1:22', decision: 'deny' },
        { kind: 'fs.write', target: '/ws/.git/hooks/pre-commit', decision: 'deny', reason: 'persistence trap pre-commit: not granted' },
        { kind: 'tool.call', tool: 'Edit', target: '/ws/src/b.ts', decision: 'allow', detail: { input: { file_path: '/ws/src/b.ts' } } },
        { kind: 'tool.call', tool: 'Bash', target: 'cd x && cargo build', decision: 'allow', detail: { input: { command: 'cd x && cargo build' } } },
        { kind: 'tool.call', tool: 'WebFetch', target: 'https://docs.rs/x', decision: 'allow', detail: { input: { url: 'https://docs.rs/x' } } },
      ]),
    ],
  });

  it('grants what the sessions did, narrowly', () => {
    expect(s.persona.network?.allow).toEqual(['api.github.com:443']);
    expect(s.persona.filesystem?.write).toEqual(['{workspace}/src']);
    expect(s.persona.tools?.allow).toEqual(['Bash(npm test:*)', 'Bash(cargo build:*)', 'Bash(cd:*)', 'Edit(/src/**)', 'WebFetch(domain:docs.rs)']);
    expect(s.notes.get('network:api.github.com:443')).toBe('2 connections in 2 of 2 sessions, denied when recorded');
  });

  it('keeps identity and protective lists; observe becomes approve', () => {
    expect(s.persona).toMatchObject({
      name: 'learner', owner: 'team@example.com', execution_mode: 'approve',
      filesystem: { read_deny: ['~/.ssh'] }, network: { deny: ['evil.example.com'] }, tools: { deny: ['Bash(git push:*)'] }, credentials: { GITHUB_TOKEN: { secret: 'gh', inject: 'env' } },
    });
  });

  it('lists what it left out on purpose', () => {
    expect(s.leftOut.map((l) => [l.what, l.why.split(' (')[0]])).toEqual([
      ['evil.example.com:443', 'denied on purpose'],
      ['10.0.0.1:22', 'an IP address: network rules name domains'],
      ['once.example.org:443', 'one-off destination'],
      ['/etc/motd', 'write outside the workspace'],
      ['/ws/.git/hooks/pre-commit', 'persistence trap: name it in filesystem.allow_sensitive by hand if it is meant'],
    ]);
  });

  it('a directory made during a session, or a file at the root, needs the whole workspace', () => {
    const w = suggestPersona({ sessions: [session('s', [{ kind: 'fs.write', target: '/ws/out', detail: { op: 'mkdir' } }, { kind: 'fs.write', target: '/ws/out/x' }])] });
    expect(w.persona.filesystem?.write).toEqual(['{workspace}']);
    expect(w.persona.execution_mode).toBe('approve');
  });

  it('renders a commented persona file that parses back to the same persona', () => {
    const yaml = suggestionToYaml(s);
    expect(yaml).toContain('# Suggested by personae persona suggest from sessions s1, s2.');
    expect(yaml).toContain('- api.github.com:443 # 2 connections in 2 of 2 sessions, denied when recorded');
    expect(yaml).toContain('# - /etc/motd: write outside the workspace');
    const parsed = parsePersonaText(yaml, 'learner.yaml');
    expect(parsed.ok && parsed.persona).toEqual(PersonaSchema.parse(s.persona));
  });
});

describe('diffPersonas, describeGrants, findSecretLike', () => {
  it('lists changes grant by grant', () => {
    const b = PersonaSchema.parse({ ...current, execution_mode: 'approve', network: { allow: ['a.test'], deny: [] }, credentials: {} });
    expect(diffPersonas(current, b).map(formatChange)).toEqual([
      '~ execution_mode: observe -> approve', '+ network.allow: a.test', '- network.deny: evil.example.com', '- credentials.GITHUB_TOKEN: {"secret":"gh","inject":"env"}',
    ]);
    expect(diffPersonas(current, current)).toEqual([]);
    expect(describeGrants(current)[2]).toBe('network: none; denied: evil.example.com');
  });

  it('finds token shapes and stored secret values', () => {
    expect(findSecretLike(`a: 1\nb: sk-ant-${'x'.repeat(30)}`)).toBe('an Anthropic API key on line 2');
    expect(findSecretLike('purpose: uses hunter2-long-value', { db: 'hunter2-long-value' })).toBe('the value of the stored secret db on line 1');
    expect(findSecretLike('credentials:\n  GITHUB_TOKEN: secret:gh')).toBeUndefined();
  });
});
