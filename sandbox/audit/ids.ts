// Event ids: 26 characters of Crockford base32, 10 for a 48-bit millisecond
// time and 16 for 80 random bits (the ULID layout). Ids sort by time as plain
// strings, are unique across processes (fresh randomness every millisecond),
// and strictly increase within one generator: inside one millisecond, or when
// the clock steps back, the random part is incremented instead of redrawn.
import { fillRandom } from '../../personas/random.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DECODE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));
const TIME_LEN = 10;
const RANDOM_LEN = 16;
export const EVENT_ID_LENGTH = TIME_LEN + RANDOM_LEN;
const MAX_TIME = 2 ** 48 - 1;
const ID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export interface IdGeneratorOptions {
  /** Clock in ms since the epoch; Date.now by default. */
  readonly now?: () => number;
  /** Fills a buffer with random bytes; the kernel's generator by default. */
  readonly random?: (buf: Uint8Array) => void;
}

/** Returns a function producing strictly increasing, time-sortable ids. */
export function createIdGenerator(opts: IdGeneratorOptions = {}): () => string {
  const now = opts.now ?? Date.now;
  const fill = opts.random ?? fillRandom;
  const digits = new Uint8Array(RANDOM_LEN);
  let lastTime = -1;
  let timePart = '';

  const redraw = (): void => {
    fill(digits);
    // Keep the top digit small so increments practically never overflow the ms.
    digits[0] = (digits[0] ?? 0) & 0x0f;
    for (let i = 1; i < RANDOM_LEN; i++) digits[i] = (digits[i] ?? 0) & 0x1f;
  };

  const increment = (): boolean => {
    for (let i = RANDOM_LEN - 1; i >= 0; i--) {
      const d = (digits[i] ?? 0) + 1;
      if (d < 32) { digits[i] = d; return true; }
      digits[i] = 0;
    }
    return false;
  };

  return () => {
    let t = Math.floor(now());
    if (!(t >= 0)) t = 0;
    if (t > MAX_TIME) throw new Error('event id: clock is beyond the 48-bit time range');
    if (t > lastTime) {
      lastTime = t;
      timePart = encodeTime(t);
      redraw();
    } else if (!increment()) {
      // 2^79 ids in one millisecond: borrow the next millisecond.
      lastTime += 1;
      timePart = encodeTime(lastTime);
      redraw();
    }
    let out = timePart;
    for (let i = 0; i < RANDOM_LEN; i++) out += ALPHABET[digits[i] ?? 0];
    return out;
  };
}

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < TIME_LEN; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** The process-wide generator. */
export const newEventId: () => string = createIdGenerator();

/** True for a well-formed event id (upper-case canonical form). */
export function isEventId(value: string): boolean {
  return ID_RE.test(value);
}

/** The millisecond time encoded in an id; throws on a malformed id. */
export function eventIdTime(id: string): number {
  if (!isEventId(id)) throw new Error(`not an event id: ${JSON.stringify(id.slice(0, 40))}`);
  let t = 0;
  for (let i = 0; i < TIME_LEN; i++) t = t * 32 + (DECODE.get(id[i] ?? '0') ?? 0);
  return t;
}

/** The smallest possible id at a given time: every id made at or after `ms` sorts >= it. */
export function minEventIdAt(ms: number): string {
  return encodeTime(Math.max(0, Math.min(MAX_TIME, Math.floor(ms)))) + '0'.repeat(RANDOM_LEN);
}
