// Keeps the kernel's retiring of this process's file watches off its exit.
// When the last holder of an inotify instance closes it (here: when the
// process exits), the kernel first waits for an SRCU grace period to retire
// its watches, about 10 ms on these machines, and only then does the parent
// (the shell, a script) learn that the process ended. `personae run` hands a
// copy of its inotify descriptor to a small helper that ends just after it,
// so that wait falls on the helper, which nothing waits for.
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';

/** This process's inotify descriptors (libuv's, which chokidar's watches use). */
export function inotifyDescriptors(): number[] {
  const fds: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === 'anon_inode:inotify') fds.push(Number(name));
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return fds;
}

/** Starts `personae-seccomp --outlive` holding this process's inotify descriptors; best effort, false when there are none or it cannot. */
export function handOffInotify(seccompHelper: string): boolean {
  const fds = inotifyDescriptors();
  if (fds.length === 0) return false;
  try {
    const child = spawn(seccompHelper, ['--outlive', String(process.pid)], { stdio: ['ignore', 'ignore', 'ignore', ...fds], detached: true });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
