// Random bytes from the kernel's generator, /dev/urandom (what node:crypto
// draws from as well), without loading node:crypto: its first require costs
// a cold `personae run` about 2.5 ms, and a session needs only ids. Nothing is
// pooled; each call reads what it needs. Where /dev/urandom cannot be read,
// node:crypto is used after all.
import { openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

let urandom: number | undefined;

function fromCrypto(buf: Uint8Array): void {
  (createRequire(import.meta.url)('node:crypto') as { randomFillSync(b: Uint8Array): void }).randomFillSync(buf);
}

/** Fills `buf` with cryptographically strong random bytes. */
export function fillRandom(buf: Uint8Array): void {
  try {
    urandom ??= openSync('/dev/urandom', 'r');
    for (let off = 0; off < buf.length; ) {
      const n = readSync(urandom, buf, off, buf.length - off, null);
      if (n <= 0) throw new Error('short read from /dev/urandom');
      off += n;
    }
  } catch {
    fromCrypto(buf);
  }
}

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  fillRandom(buf);
  return buf.toString('hex');
}

/** A random (version 4) UUID, as crypto.randomUUID() makes. */
export function randomUUID(): string {
  const b = Buffer.alloc(16);
  fillRandom(b);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
