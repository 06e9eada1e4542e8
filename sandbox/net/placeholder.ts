// Placeholders: what the sandbox sees instead of a credential. The
// placeholder has the value's shape: a known format's prefix (an Anthropic or
// OpenAI key, a GitHub token...) kept, then the same length and character
// classes, random. So a tool that checks the shape of its key keeps working,
// and swapping one for the other never changes a message's length. A value
// too short or too odd for that gets a personae-marked random string. Fresh
// for every session; only the prefix and the shape come from the value.
import { fillRandom } from '../../personas/random.js';

function randomBytes(n: number): Buffer {
  const buf = Buffer.alloc(n);
  fillRandom(buf);
  return buf;
}

/** Prefixes of known token formats, longest first where they overlap. */
const KNOWN_PREFIX_RE = /^(?:sk-ant-[a-z]{3,5}\d{2}-|sk-proj-|sk-svcacct-|sk-admin-|sk-|github_pat_|gh[pousr]_|glpat-|xox[abposr]-|AIza|npm_|hf_|pypi-)/;

/** Fewest random characters a shaped placeholder carries (else it would be guessable, or collide). */
const MIN_RANDOM = 20;
const GENERIC_PREFIX = 'personae-placeholder-';
const GENERIC_RANDOM = 32;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const ALNUM = LOWER + UPPER + DIGITS;

/** Random characters drawn from `alphabet` (rejection sampling, so no bias). */
function draw(alphabet: string, count: number, random: (n: number) => Buffer): string[] {
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < count) {
    for (const byte of random(count * 2)) {
      if (byte < limit && out.length < count) out.push(alphabet[byte % alphabet.length] as string);
    }
  }
  return out;
}

/**
 * A placeholder for `value`: a known prefix kept, then the same length and
 * character classes (letters, digits; other printable characters kept), when
 * the value has at least 20 letters and digits; else `personae-placeholder-`
 * and 32 random letters and digits. `random` is injectable for tests.
 */
export function makePlaceholder(value: string, random: (n: number) => Buffer = randomBytes): string {
  const prefix = KNOWN_PREFIX_RE.exec(value)?.[0] ?? '';
  const body = value.slice(prefix.length);
  const randomCount = [...body].filter((c) => /[A-Za-z0-9]/.test(c)).length;
  if (randomCount < MIN_RANDOM || !/^[\x21-\x7e]+$/.test(body)) {
    return GENERIC_PREFIX + draw(ALNUM, GENERIC_RANDOM, random).join('');
  }
  const lowers = draw(LOWER, body.length, random);
  const uppers = draw(UPPER, body.length, random);
  const digits = draw(DIGITS, body.length, random);
  let out = prefix;
  for (const [i, c] of [...body].entries()) {
    if (c >= 'a' && c <= 'z') out += lowers[i];
    else if (c >= 'A' && c <= 'Z') out += uppers[i];
    else if (c >= '0' && c <= '9') out += digits[i];
    else out += c;
  }
  // Astronomically unlikely, and checked all the same: a placeholder is never the value.
  return out === value ? makePlaceholder(value, random) : out;
}
