// Repositories the agent made below the workspace root (a clone, a `git init`
// in vendor/lib) carry their own config and hooks, which git on the host runs
// when the user works in them later (core.fsmonitor, hooks, filters...). At
// the end of a session, the parts of such a repository that can run code are
// moved to quarantine; its objects, refs and index stay, so it still works.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Config keys and sections with which git runs a program. */
const RUNS_CODE = /^\s*(fsmonitor|hookspath|sshcommand|pager|editor|askpass|external|textconv|gitproxy|program|helper|process|clean|smudge|command|receivepack|uploadpack|worktree)\s*=|^\s*\[\s*(filter|credential|diff|merge|gpg|sequence|alias|include|includeif|core\.fsmonitor)\b/im;

/** The `.git` entries (dirs or files) below `root` that a set of changed paths passes through. */
export function nestedGitEntries(root: string, changed: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const p of changed) {
    const rel = path.relative(root, p);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const parts = rel.split(path.sep);
    const i = parts.indexOf('.git');
    if (i > 0) found.add(path.join(root, ...parts.slice(0, i + 1)));
  }
  return [...found];
}

/** What to quarantine in one nested `.git`: a gitfile, commondir, non-sample hooks, a config that runs code. */
export function codeRunningParts(gitEntry: string): string[] {
  let st;
  try {
    st = lstatSync(gitEntry);
  } catch {
    return [];
  }
  if (!st.isDirectory()) return [gitEntry];
  const out: string[] = [];
  const commondir = path.join(gitEntry, 'commondir');
  try {
    lstatSync(commondir);
    out.push(commondir);
  } catch {
    // none
  }
  try {
    for (const h of readdirSync(path.join(gitEntry, 'hooks'))) if (!h.endsWith('.sample')) out.push(path.join(gitEntry, 'hooks', h));
  } catch {
    // no hooks directory
  }
  const config = path.join(gitEntry, 'config');
  try {
    const c = lstatSync(config);
    if (!c.isFile() || c.size > 1024 * 1024 || RUNS_CODE.test(readFileSync(config, 'utf8'))) out.push(config);
  } catch {
    // no config
  }
  return out;
}
