// Before a session's change reaches the checkout it came from: every changed
// path must lie inside the persona's writable paths, and none may be a
// persistence trap the persona was not granted. In the sandbox the OS
// enforced both on files; a commit is made of objects, and an agent can
// write objects for any path (`git hash-object -w` + `git update-index
// --cacheinfo`), so the change itself is checked too. Pure.
import type { WorktreeRecord } from './record.js';

function under(p: string, root: string): boolean {
  return root === '' || p === root || p.startsWith(`${root}/`);
}

/** One line per problem (at most `max`), empty when the change may be applied. */
export function changeProblems(paths: readonly string[], grants: WorktreeRecord['grants'], traps: readonly string[], max = 5): string[] {
  const allowed = new Set(grants.allow_sensitive);
  const trapPaths = grants.write.flatMap((w) => traps.filter((t) => !allowed.has(t)).map((t) => (w === '' ? t : `${w}/${t}`)));
  const problems: string[] = [];
  for (const p of paths) {
    if (problems.length >= max) break;
    if (!grants.write.some((w) => under(p, w))) {
      problems.push(`${p}: outside the persona's writable paths`);
      continue;
    }
    const trap = trapPaths.find((t) => under(p, t));
    if (trap !== undefined) problems.push(`${p}: a persistence trap the persona may not write (filesystem.allow_sensitive)`);
  }
  return problems;
}
