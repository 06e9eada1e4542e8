import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { auditDbPath, personaHomeDir, personaeHome, personasDir, runDir, secretsPath, suspendedPath } from '../../personas/paths.js';

describe('paths', () => {
  test('PERSONAE_HOME wins and is made absolute', () => {
    expect(personaeHome({ PERSONAE_HOME: '/srv/p', HOME: '/home/a' })).toBe('/srv/p');
    expect(personaeHome({ PERSONAE_HOME: 'rel/p' })).toBe(join(process.cwd(), 'rel/p'));
  });

  test('defaults to XDG_DATA_HOME, then ~/.local/share', () => {
    expect(personaeHome({ HOME: '/home/a' })).toBe('/home/a/.local/share/personae');
    expect(personaeHome({ HOME: '/home/a', PERSONAE_HOME: '' })).toBe('/home/a/.local/share/personae');
    expect(personaeHome({ HOME: '/home/a', XDG_DATA_HOME: '/data' })).toBe('/data/personae');
    expect(personaeHome({ HOME: '/home/a', XDG_DATA_HOME: 'relative' })).toBe('/home/a/.local/share/personae');
  });

  test('layout under the home', () => {
    const h = '/p';
    expect(personasDir(h)).toBe('/p/personas');
    expect(secretsPath(h)).toBe('/p/secrets/secrets.json');
    expect(personaHomeDir(h, 'night')).toBe('/p/homes/night');
    expect(runDir(h)).toBe('/p/run');
    expect(auditDbPath(h)).toBe('/p/audit.db');
    expect(suspendedPath(h)).toBe('/p/suspended.json');
  });

  test('a persona HOME name cannot escape', () => {
    expect(() => personaHomeDir('/p', '../x')).toThrow('"../x" is not a valid persona name');
    expect(() => personaHomeDir('/p', '')).toThrow();
  });
});

describe('layering', () => {
  test('personas/ imports only node builtins, zod and yaml', () => {
    const dir = fileURLToPath(new URL('../../personas', import.meta.url));
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const m of source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)) {
        const spec = m[1] ?? '';
        const ok = spec.startsWith('node:') || spec === 'zod' || spec.startsWith('zod/') || spec === 'yaml' || /^\.\/[a-z0-9-]+\.js$/.test(spec);
        expect(ok, `${file} imports ${spec}`).toBe(true);
      }
    }
  });
});
