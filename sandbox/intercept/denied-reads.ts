// Which denied reads are new: a program probing the same hidden path again
// (a shell's PATH search, a retry loop) is one attempt per process, path and
// kind of attempt; at most MAX_DENIED_READS are recorded per session, so a
// loop over hidden paths cannot flood the log.
export const MAX_DENIED_READS = 10_000;

export class DeniedReads {
  private readonly seen = new Set<string>();

  /** True the first time this process makes this kind of attempt on this path (and while under the cap). */
  first(pid: number, target: string, op: string): boolean {
    const key = `${pid}\u0000${op}\u0000${target}`;
    if (this.seen.has(key) || this.seen.size >= MAX_DENIED_READS) return false;
    this.seen.add(key);
    return true;
  }
}
