// Streams through which terminated HTTP bodies pass:
// - a request body on its way out is searched for placeholders that must not
//   go to this host; the first one found stops the stream (`onFound`) before
//   any byte of it is passed on, and a small body is held whole until it ends,
//   so a refused request sends nothing of its body at all;
// - a response body on its way into the sandbox has every real credential
//   value replaced by its placeholder (same length, so framing holds).
// A match may straddle chunks: the last bytes of each chunk wait for the next.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

export interface ScanPattern {
  readonly name: string;
  readonly find: Buffer;
  /** For replacing streams: what `find` becomes. */
  readonly replace?: Buffer;
}

function longest(patterns: readonly ScanPattern[]): number {
  return patterns.reduce((n, p) => Math.max(n, p.find.length), 0);
}

/** The first pattern found in `buf` (earliest position), if any. */
export function firstMatch(buf: Buffer, patterns: readonly ScanPattern[]): { pattern: ScanPattern; at: number } | undefined {
  let best: { pattern: ScanPattern; at: number } | undefined;
  for (const pattern of patterns) {
    const at = buf.indexOf(pattern.find);
    if (at !== -1 && (best === undefined || at < best.at)) best = { pattern, at };
  }
  return best;
}

/** A body may queue this much in a stream before its source is paused (16 KiB would pause it at every TLS record). */
const BODY_BUFFER = 512 * 1024;

/** Counts bytes passed through (for the request's event). */
export class CountingStream extends Transform {
  bytes = 0;
  constructor() {
    super({ highWaterMark: BODY_BUFFER });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** Stops (without passing it on) at the first pattern found; holds up to `holdBytes` before passing anything. */
export class DetectStream extends CountingStream {
  private carry: Buffer = Buffer.alloc(0);
  private readonly keep: number;
  private holding: boolean;
  found: ScanPattern | undefined;

  constructor(
    private readonly patterns: readonly ScanPattern[],
    private readonly onFound: (pattern: ScanPattern) => void,
    private readonly holdBytes = 64 * 1024,
  ) {
    super();
    this.keep = longest(patterns);
    this.holding = holdBytes > 0;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.found !== undefined) return done();
    this.bytes += chunk.length;
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const hit = firstMatch(buf, this.patterns);
    if (hit !== undefined) {
      this.found = hit.pattern;
      this.carry = Buffer.alloc(0);
      this.onFound(hit.pattern);
      return done();
    }
    if (this.holding && buf.length <= this.holdBytes) {
      this.carry = buf;
      return done();
    }
    this.holding = false;
    const cut = Math.max(0, buf.length - this.keep);
    this.carry = buf.subarray(cut);
    done(null, cut === 0 ? undefined : buf.subarray(0, cut));
  }

  override _flush(done: TransformCallback): void {
    if (this.found !== undefined || this.carry.length === 0) return done();
    done(null, this.carry);
  }
}

/**
 * Replaces every pattern with its replacement. A chunk is passed on whole,
 * without a copy, unless it ends with what could be the start of a pattern:
 * only those last bytes wait for the next chunk.
 */
export class ReplaceStream extends CountingStream {
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly patterns: readonly ScanPattern[]) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    const buf = replaceAll(this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]), this.patterns);
    const hold = partialTail(buf, this.patterns);
    this.carry = hold === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(hold));
    done(null, hold === 0 ? undefined : hold === buf.length ? buf : buf.subarray(0, hold));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.carry.length === 0 ? undefined : this.carry);
  }
}

/** Where the earliest possible start of a pattern cut off by the end of `buf` is (`buf.length` when there is none). */
export function partialTail(buf: Buffer, patterns: readonly ScanPattern[]): number {
  let hold = buf.length;
  for (const { find } of patterns) {
    const first = find[0];
    if (first === undefined) continue;
    const from = Math.max(0, buf.length - find.length + 1);
    for (let at = buf.indexOf(first, from); at !== -1 && at < hold; at = buf.indexOf(first, at + 1)) {
      if (buf.subarray(at).equals(find.subarray(0, buf.length - at))) {
        hold = at;
        break;
      }
    }
  }
  return hold;
}

/** `buf` with every occurrence of each pattern replaced (in place when no pattern changes length). */
export function replaceAll(buf: Buffer, patterns: readonly ScanPattern[]): Buffer {
  let out = buf;
  for (const p of patterns) {
    const replace = p.replace;
    if (replace === undefined) continue;
    let at = out.indexOf(p.find);
    if (at === -1) continue;
    if (replace.length !== p.find.length) {
      const parts: Buffer[] = [];
      let from = 0;
      for (; at !== -1; at = out.indexOf(p.find, from)) {
        parts.push(out.subarray(from, at), replace);
        from = at + p.find.length;
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
      continue;
    }
    if (out === buf) out = Buffer.from(buf);
    for (; at !== -1; at = out.indexOf(p.find, at + replace.length)) replace.copy(out, at);
  }
  return out;
}
