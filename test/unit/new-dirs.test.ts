// The catch-up for directories made during a session: what chokidar missed is
// reported once, never twice, and again after a delete.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { NewDirCatchUp } from '../../sandbox/intercept/new-dirs.js';

let root: string;
let reported: string[];
let c: NewDirCatchUp;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'personae-newdirs-'));
  reported = [];
  c = new NewDirCatchUp((p) => p.includes('/node_modules'), (p) => reported.push(path.relative(root, p)));
});
afterEach(() => {
  c.close();
  rmSync(root, { recursive: true, force: true });
});

it('reports what is in a new directory and was not reported, ignored paths aside, once', () => {
  const d = path.join(root, 'new');
  mkdirSync(path.join(d, 'sub'), { recursive: true });
  mkdirSync(path.join(d, 'node_modules'));
  writeFileSync(path.join(d, 'a'), '');
  writeFileSync(path.join(d, 'sub', 'b'), '');
  expect(c.created(d, 'dir')).toBe(true);
  expect(c.created(path.join(d, 'a'), 'file')).toBe(true); // chokidar saw this one
  c.catchUpAll();
  c.catchUpAll(); // sub is new too: read in the second round
  expect(reported.sort()).toEqual(['new/sub', 'new/sub/b']);
  // chokidar reporting them late is a duplicate, dropped.
  expect(c.created(path.join(d, 'sub', 'b'), 'file')).toBe(false);
  // Deleted and made again: reported again.
  c.removed(path.join(d, 'a'));
  c.catchUpAll();
  expect(reported).toContain('new/a');
});

it('leaves entries of directories that existed before the session to chokidar', () => {
  expect(c.created(path.join(root, 'old-file'), 'file')).toBe(true);
  expect(c.created(path.join(root, 'old-file'), 'file')).toBe(true);
  c.catchUpAll();
  expect(reported).toEqual([]);
});
