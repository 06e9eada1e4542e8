// What a killed supervisor leaves behind, and who may clean it up: real
// directories and files in a temporary PERSONAE_HOME/run.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identify, liveRunDirs, recoverStaleRunDirs, releaseRunDir, writeManifest } from '../../sandbox/launch/run-dirs.js';

let root: string;
let run: string;
let ws: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'personae-rundirs-'));
  run = path.join(root, 'run');
  ws = path.join(root, 'ws');
  mkdirSync(run);
  mkdirSync(ws);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A run directory as a dead supervisor leaves it: a manifest naming a pid that is not running, set up long ago. */
function deadSession(name: string, placeholders: Array<{ path: string; kind: 'dir' | 'file' }>, manifest?: string): string {
  const dir = path.join(run, name);
  mkdirSync(dir);
  for (const p of placeholders) {
    if (p.kind === 'dir') mkdirSync(p.path);
    else writeFileSync(p.path, '');
  }
  writeManifest(dir, identify(placeholders));
  if (manifest !== undefined) writeFileSync(path.join(dir, 'placeholders.json'), manifest);
  else {
    // Rewrite the supervisor as one that is gone (pid 2^22 + 1 is above any pid_max).
    const m = JSON.parse(readFileSync(path.join(dir, 'placeholders.json'), 'utf8')) as { supervisor: { pid: number; start: string } };
    m.supervisor = { pid: 4194305, start: '1' };
    writeFileSync(path.join(dir, 'placeholders.json'), JSON.stringify(m));
  }
  const old = new Date(Date.now() - 60_000);
  utimesSync(dir, old, old);
  return dir;
}

describe('run directories of killed supervisors', () => {
  it('are recovered by a session alone: their placeholders and their directories go', () => {
    const dir = deadSession('aaaaaaaaaaaa', [{ path: path.join(ws, '.vscode'), kind: 'dir' }, { path: path.join(ws, '.mcp.json'), kind: 'file' }]);
    expect(liveRunDirs(run, undefined)).toEqual([]);
    expect(recoverStaleRunDirs(run, undefined)).toEqual([dir]);
    expect(readdirSync(ws)).toEqual([]);
    expect(readdirSync(run)).toEqual([]);
  });

  it('leave alone what is no longer the placeholder: refilled, or replaced by another file of the same name', () => {
    const vscode = path.join(ws, '.vscode');
    const mcp = path.join(ws, '.mcp.json');
    deadSession('bbbbbbbbbbbb', [{ path: vscode, kind: 'dir' }, { path: mcp, kind: 'file' }]);
    writeFileSync(path.join(vscode, 'settings.json'), '{}');
    rmSync(mcp);
    writeFileSync(mcp, '');
    recoverStaleRunDirs(run, undefined);
    expect(readdirSync(ws).sort()).toEqual(['.mcp.json', '.vscode']);
  });

  it('are not touched while another session runs (it may have mounted over a placeholder)', () => {
    deadSession('cccccccccccc', [{ path: path.join(ws, '.idea'), kind: 'dir' }]);
    const live = path.join(run, 'dddddddddddd');
    mkdirSync(live);
    writeManifest(live, []); // this process: a running supervisor
    const old = new Date(Date.now() - 60_000);
    utimesSync(live, old, old);
    expect(liveRunDirs(run, undefined)).toEqual([live]);
    expect(recoverStaleRunDirs(run, undefined)).toEqual([]);
    expect(existsSync(path.join(ws, '.idea'))).toBe(true);
    // Its own session's directory does not count against itself.
    expect(recoverStaleRunDirs(run, live)).toHaveLength(1);
    expect(existsSync(path.join(ws, '.idea'))).toBe(false);
  });

  it('a manifest that is not ours (bad JSON, relative paths) removes nothing outside the run directory', () => {
    writeFileSync(path.join(ws, 'keep'), '');
    deadSession('eeeeeeeeeeee', [], '{"supervisor":{"pid":4194305,"start":"1"},"placeholders":[{"path":"ws/keep","kind":"file","id":"1:1:1"}]}');
    deadSession('ffffffffffff', [], 'not json');
    expect(recoverStaleRunDirs(run, undefined)).toHaveLength(2);
    expect(readdirSync(ws)).toEqual(['keep']);
  });

  it('a directory still setting up (no manifest yet, just made) counts as live', () => {
    mkdirSync(path.join(run, '111111111111'));
    expect(liveRunDirs(run, undefined)).toHaveLength(1);
  });

  it('a session that ends with placeholders left in place keeps only their list', () => {
    const dir = path.join(run, '222222222222');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'control.sock'), '');
    mkdirSync(path.join(ws, '.claude'));
    writeManifest(dir, identify([{ path: path.join(ws, '.claude'), kind: 'dir' }]));
    releaseRunDir(dir);
    expect(readdirSync(dir)).toEqual(['placeholders.json']);
    rmSync(path.join(ws, '.claude'), { recursive: true });
    releaseRunDir(dir);
    expect(existsSync(dir)).toBe(false);
  });
});
