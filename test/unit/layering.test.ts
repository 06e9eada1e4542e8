// DESIGN.md's import directions, checked by reading every import:
//  personas/ imports nothing of ours; sandbox/ imports personas/ only;
//  main/electron/ loads no native module and nothing of the engine;
//  renderer/ imports only main/api/contract.ts (and nothing of Node).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const rel = path.join(dir, e);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return e === 'node_modules' ? [] : sources(rel);
    return /\.(ts|tsx)$/.test(e) && !e.endsWith('.d.ts') ? [rel] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    out.push(m[1] ?? m[2] ?? m[3] ?? '');
  }
  return out;
}

/** The top-level folder (and for main/, the subfolder) an import resolves to, or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return `pkg:${spec}`;
  return path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec));
}

const NATIVE = ['pkg:better-sqlite3', 'pkg:node-pty'];

describe('layering (DESIGN.md)', () => {
  it('personas/ imports nothing of ours', () => {
    const bad = sources('personas').flatMap((f) => imports(f).filter((s) => s.startsWith('.') && !target(f, s).startsWith('personas/')).map((s) => `${f} -> ${s}`));
    expect(bad).toEqual([]);
  });

  it('sandbox/ imports personas/ only, never main/ or renderer/', () => {
    const bad = sources('sandbox').flatMap((f) =>
      imports(f)
        .filter((s) => s.startsWith('.'))
        .filter((s) => {
          const t = target(f, s);
          return !t.startsWith('sandbox/') && !t.startsWith('personas/');
        })
        .map((s) => `${f} -> ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('main/electron/ loads no native module and nothing of the engine', () => {
    const bad = sources('main/electron').flatMap((f) =>
      imports(f)
        .filter((s) => NATIVE.includes(target(f, s)) || /^(sandbox|personas)\//.test(target(f, s)))
        .map((s) => `${f} -> ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('renderer/ imports only main/api/contract.ts of ours, and nothing of Node', () => {
    const bad = sources('renderer').flatMap((f) =>
      imports(f)
        .filter((s) => {
          const t = target(f, s);
          if (s.startsWith('.')) return !t.startsWith('renderer/') && t !== 'main/api/contract.js' && t !== 'main/api/contract';
          return s.startsWith('node:') || ['fs', 'path', 'child_process', 'os', 'net', 'http'].includes(s) || NATIVE.includes(t);
        })
        .map((s) => `${f} -> ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it('main/api/contract.ts imports nothing but zod', () => {
    expect(imports('main/api/contract.ts').filter((s) => s !== 'zod')).toEqual([]);
  });
});
