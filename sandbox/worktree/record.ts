// What personae records about a session's git worktree (on the session's
// row, as JSON): where it came from, where it lives, and the grants the
// session ran with (apply checks the change against them).
import * as z from 'zod/mini';

export const WorktreeRecordSchema = z.strictObject({
  /** The checkout the worktree came from (its top level): apply merges into it. */
  repo: z.string(),
  /** That repository's git common directory (`<repo>/.git`). */
  common_dir: z.string(),
  /** The worktree's admin directory in the common directory (`<common>/worktrees/<name>`). */
  admin_dir: z.string(),
  /** The worktree's checkout (the session's workspace is this, or a subdirectory of it). */
  path: z.string(),
  /** personae's own directory beside it: the session's objects, branch ref and reflog. */
  private_dir: z.string(),
  branch: z.string(),
  /** The commit the branch started from. */
  base: z.string(),
  /** The ref the user named (HEAD by default). */
  base_ref: z.string(),
  /** The workspace relative to the worktree's top ('' = the top). */
  subdir: z.string(),
  /** The persona's git identity (commits personae makes for it carry it too). */
  identity: z.strictObject({ name: z.string(), email: z.string() }),
  grants: z.strictObject({
    /** Writable paths inside the worktree, relative to its top ('' = all of it). */
    write: z.array(z.string()),
    /** Persistence traps the persona may write (filesystem.allow_sensitive). */
    allow_sensitive: z.array(z.string()),
  }),
});
export type WorktreeRecord = z.infer<typeof WorktreeRecordSchema>;

/** Where a worktree session stands: its worktree exists and waits for a decision, or was kept, or thrown away. */
export const WORKTREE_STATES = ['pending', 'applied', 'discarded'] as const;
export type WorktreeState = (typeof WORKTREE_STATES)[number];

/** The stored JSON, or null when absent or not a record. */
export function parseWorktreeRecord(text: string | null): WorktreeRecord | null {
  if (text === null || text === '') return null;
  try {
    const parsed = WorktreeRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
