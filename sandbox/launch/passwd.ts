// The sandbox's /etc/passwd: the host's, with the user's entry naming the
// persona's HOME as the home directory, so programs that look it up there
// (ssh, curl) stay in it instead of reaching for the hidden real one.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The host's /etc/passwd with the entry of `uid` (every one, should there be several) pointing at `home`. */
export function passwdFor(hostPasswd: string, uid: number, home: string): string {
  return hostPasswd
    .split('\n')
    .map((line) => {
      const f = line.split(':');
      return f.length >= 7 && f[2] === String(uid) ? [f[0], f[1], f[2], f[3], f[4], home, f[6]].join(':') : line;
    })
    .join('\n');
}

/** Writes it into the session's run directory; undefined when the host's cannot be read (the host's is used then). */
export function sandboxPasswd(dir: string, personaHome: string): string | undefined {
  try {
    const file = path.join(dir, 'passwd');
    writeFileSync(file, passwdFor(readFileSync('/etc/passwd', 'utf8'), process.getuid?.() ?? -1, personaHome), { mode: 0o644 });
    return file;
  } catch {
    return undefined;
  }
}
