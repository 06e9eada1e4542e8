// Time arguments for `--since` / `--until`: ISO timestamps, dates (local
// midnight), relative durations (`90s`, `10m`, `2h`, `1d`, `1w`, optionally
// followed by `ago`) and the words `now`, `today`, `yesterday`.

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, wk: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

const RELATIVE_RE = /^(\d+(?:\.\d+)?)\s*([a-z]+)(?:\s+ago)?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Date and time with a 'T' or a space, optional seconds/fraction, optional zone.
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

function localMidnight(now: Date, daysBack: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - daysBack);
}

function fail(value: string): never {
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  throw new Error(
    `invalid time ${shown}: use an ISO time (2024-05-01T12:00:00Z), a date (2024-05-01), ` +
      'a duration ago (30s, 10m, 2h, 1d, 1w), now, today or yesterday',
  );
}

/** Parses a `--since`-style value into a Date; throws an Error with a one-line message on bad input. */
export function parseSince(value: string, now: Date = new Date()): Date {
  if (typeof value !== 'string') fail(String(value));
  const text = value.trim().toLowerCase();
  if (text === '') fail(value);
  if (text === 'now') return new Date(now.getTime());
  if (text === 'today') return localMidnight(now, 0);
  if (text === 'yesterday') return localMidnight(now, 1);

  const rel = RELATIVE_RE.exec(text);
  if (rel) {
    const unit = UNIT_MS[rel[2] ?? ''];
    const amount = Number(rel[1]);
    if (unit === undefined || !Number.isFinite(amount)) fail(value);
    return new Date(now.getTime() - amount * unit);
  }

  const date = DATE_RE.exec(text);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const result = new Date(y, m - 1, d);
    if (result.getFullYear() !== y || result.getMonth() !== m - 1 || result.getDate() !== d) fail(value);
    return result;
  }

  if (DATETIME_RE.test(text)) {
    const ms = Date.parse(text.toUpperCase().replace(' ', 'T'));
    if (Number.isFinite(ms)) return new Date(ms);
  }
  return fail(value);
}

/** Accepts a Date, a `--since`-style string or undefined; returns a canonical ISO string or undefined. */
export function toIsoTime(value: Date | string | undefined, now?: Date): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : parseSince(value, now);
  if (!Number.isFinite(date.getTime())) throw new Error('invalid time: not a valid Date');
  return date.toISOString();
}
