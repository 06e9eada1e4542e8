import { readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { checkRunnable, loadPersonaFile } from '../../personas/loader.js';

const PRESETS = fileURLToPath(new URL('../../personas/presets', import.meta.url));
const files = readdirSync(PRESETS).filter((f) => /\.(ya?ml|json)$/.test(f));

describe('presets', () => {
  test('the expected presets exist', () => {
    expect(files).toEqual(expect.arrayContaining(['reviewer.yaml', 'builder.yaml', 'overnight.yaml', 'shell.yaml']));
  });

  test.each(files)('%s is valid, named after its file, and points at the schema', (file) => {
    const path = join(PRESETS, file);
    const result = loadPersonaFile(path);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.persona.name).toBe(basename(file, extname(file)));
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../persona.schema.json');
    expect(checkRunnable(result.persona, new Date('2026-06-01T00:00:00Z'), new Set())).toBeUndefined();
  });

  test('grants match their purpose', () => {
    const load = (name: string) => {
      const r = loadPersonaFile(join(PRESETS, `${name}.yaml`));
      if (!r.ok) throw new Error(r.errors.join('\n'));
      return r.persona;
    };
    const reviewer = load('reviewer');
    expect(reviewer.filesystem.write).toEqual([]);
    expect(reviewer.network.allow).toEqual([]);
    expect(reviewer.execution_mode).toBe('approve');
    expect(reviewer.tools.deny).toEqual(expect.arrayContaining(['Edit', 'Write', 'Bash(git push:*)']));

    const builder = load('builder');
    expect(builder.filesystem.write).toEqual(['{workspace}']);
    expect(builder.network.allow).toEqual(['registry.npmjs.org']);
    expect(builder.filesystem.read_deny).toEqual(expect.arrayContaining(['~/.ssh', '~/.aws', '~/.gnupg']));
    expect(builder.tools.deny).toEqual(expect.arrayContaining(['Bash(git push:*)', 'Bash(curl:*)']));
    expect(builder.execution_mode).toBe('autonomous');

    const overnight = load('overnight');
    expect(overnight.limits).toMatchObject({ max_runtime: '8h', max_tool_calls: 500, drift_threshold: 3, on_drift: 'stop' });
    expect(overnight.expires).toBe('2027-02-28T23:59:59.999Z');
    expect(overnight.filesystem.write).toEqual(['{workspace}']);
    expect(overnight.network.allow).toEqual([]);
    expect(overnight.credentials).toEqual({});

    const shell = load('shell');
    expect(shell.agent).toBe('shell');
    expect(shell.network.allow).toEqual([]);
  });
});
