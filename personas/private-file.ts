// Small files only this user may touch: created 0600 in a 0700 directory,
// replaced atomically (temp file + rename), and refused on read when their
// permissions or owner say someone else could have read or planted them.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomHex } from './random.js';
import { dirname } from 'node:path';

/** A one-line, user-facing problem with a private file (never includes file contents). */
export class PrivateFileError extends Error {
  override readonly name = 'PrivateFileError';
}

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Creates `dir` (and parents) with mode 0700 if missing; refuses one that others can enter or that we do not own. */
export function ensurePrivateDir(dir: string, what: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory()) throw new PrivateFileError(`${what} ${dir} is not a directory; move it away`);
  const uid = currentUid();
  if (uid !== undefined && stat.uid !== uid) {
    throw new PrivateFileError(`${what} ${dir} is owned by uid ${stat.uid}, not you (uid ${uid}); fix it with: chown "$(id -u)" ${dir} && chmod 700 ${dir}`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new PrivateFileError(`${what} ${dir} is open to other users (mode ${octal(stat.mode)}); fix it with: chmod 700 ${dir}`);
  }
}

/**
 * Reads a private file; undefined when it does not exist. Refuses symlinks,
 * non-regular files, files owned by another user, and files with any of
 * `forbiddenBits` set (default: any group or world permission).
 */
export function readPrivateFile(path: string, what: string, maxBytes: number, forbiddenBits = 0o077): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new PrivateFileError(`${what} ${path} is a symbolic link; replace it with a regular file`);
    if (code === 'EACCES') throw new PrivateFileError(`${what} ${path} is not readable by you; fix it with: chmod 600 ${path}`);
    throw new PrivateFileError(`cannot open ${what} ${path} (${code ?? 'unknown error'})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new PrivateFileError(`${what} ${path} is not a regular file; move it away`);
    const uid = currentUid();
    if (uid !== undefined && stat.uid !== uid) {
      throw new PrivateFileError(`${what} ${path} is owned by uid ${stat.uid}, not you (uid ${uid}); refusing to use it. Fix it with: chown "$(id -u)" ${path} && chmod 600 ${path}`);
    }
    if ((stat.mode & forbiddenBits) !== 0) {
      throw new PrivateFileError(`${what} ${path} is ${forbiddenBits & 0o044 ? 'readable or writable' : 'writable'} by other users (mode ${octal(stat.mode)}); refusing to use it. Fix it with: chmod 600 ${path}`);
    }
    if (stat.size > maxBytes) throw new PrivateFileError(`${what} ${path} is too large (${stat.size} bytes)`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` atomically with `data`, mode 0600. With `privateDir`, its
 * directory is created 0700 and refused when others can enter it; otherwise
 * it is just created if missing.
 */
export function writePrivateFileAtomic(path: string, data: string, what: string, privateDir = true): void {
  const dir = dirname(path);
  if (privateDir) ensurePrivateDir(dir, `${what} directory`);
  else mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomHex(6)}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      fchmodSync(fd, 0o600);
      const buf = Buffer.from(data, 'utf8');
      let written = 0;
      while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw err;
  }
  try {
    const dirFd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}
