// Keeps the kernel's retiring of this process's file watches off its exit.
// When the last holder of an inotify instance closes it (here: when the
// process exits), the kernel first waits for an SRCU grace period to retire
// its watches, about 10 ms on these machines, and only then does the parent
// (the shell, a script) learn that the process ended. `personae run` gives a
// copy of its inotify descriptor to the sandbox's first helper, which starts
// a holder that ends just after personae run (personae-seccomp --hold-fd):
// that wait then falls on the holder, which nothing waits for.
import { readdirSync, readlinkSync, watch } from 'node:fs';

/**
 * This process's inotify descriptor (libuv's, which every fs.watch and so
 * chokidar uses), made now if no watch has made it yet (libuv keeps it open
 * once made); undefined when there is none to be found.
 */
export function inotifyDescriptor(anyDir: string): number | undefined {
  try {
    watch(anyDir, { persistent: false }).close();
    for (const name of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${name}`) === 'anon_inode:inotify') return Number(name);
      } catch {
        // closed meanwhile (readdir's own descriptor)
      }
    }
  } catch {
    // no inotify here: nothing to hold
  }
  return undefined;
}
