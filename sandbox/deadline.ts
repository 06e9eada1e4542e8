// A timer for deadlines that may be days or weeks away (limits.max_runtime).
/**
 * Calls `fn` at `deadline` (ms since the epoch), however far off: setTimeout
 * holds at most ~24.8 days, so it re-arms in steps. Returns the cancel.
 */
export function atDeadline(deadline: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = deadline - Date.now();
    if (left <= 0) {
      timer = undefined;
      fn();
      return;
    }
    timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
    timer.unref();
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
  };
}
