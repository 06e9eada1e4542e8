// Diffs of the files a session changed, for the morning review. The
// workspace's git repository may have been written by the agent (its config
// can name programs for git to run), so git runs inside a throw-away sandbox
// of its own: read-only workspace, no network, no home, no config but the
// repository's, external diff and text conversion drivers off.
import path from 'node:path';
import type { HostTools } from '../launch/plan.js';
import { spawnSandboxed, UNTRUSTED_GIT } from '../worktree/sandboxed-git.js';

export const MAX_DIFF_PER_FILE = 64 * 1024;
const MAX_DIFF_TOTAL = 1024 * 1024;

/** Splits `git diff` output into one patch per file (by the b/ path). */
export function splitDiff(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(/^(?=diff --git )/m);
  for (const part of parts) {
    const m = /^diff --git a\/(.+?) b\/(.+)$/m.exec(part);
    if (!m?.[2]) continue;
    out.set(m[2], part.length > MAX_DIFF_PER_FILE ? `${part.slice(0, MAX_DIFF_PER_FILE)}\n… (diff truncated)\n` : part);
  }
  return out;
}

/** `git diff HEAD -- paths` for files under `workspace`, computed in a sandbox. Resolves to absolute path -> patch. */
export function sandboxedGitDiff(tools: HostTools, workspace: string, files: readonly string[], hide: readonly string[], timeoutMs = 5000): Promise<Map<string, string>> {
  const rel = files.map((f) => path.relative(workspace, f)).filter((r) => r !== '' && !r.startsWith('..') && !r.startsWith('.git/') && r !== '.git');
  if (rel.length === 0) return Promise.resolve(new Map());
  const sandbox = { bwrap: tools.bwrap, hide, ro: [workspace], cwd: workspace };
  const command = ['git', ...UNTRUSTED_GIT, '--no-pager', 'diff', '--no-ext-diff', '--no-textconv', '--no-color', 'HEAD', '--', ...rel.slice(0, 2000)];
  return new Promise((resolve) => {
    const child = spawnSandboxed(sandbox, command);
    child.stderr.resume();
    let text = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (text.length < MAX_DIFF_TOTAL) text += d;
    });
    child.on('error', () => resolve(new Map()));
    child.on('close', () => {
      clearTimeout(timer);
      const byRel = splitDiff(text);
      resolve(new Map([...byRel].map(([r, patch]) => [path.join(workspace, r), patch])));
    });
  });
}
