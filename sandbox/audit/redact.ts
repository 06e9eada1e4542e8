// Redaction: secret values never reach the store. Every occurrence of a
// secret's value in an event's tool, target, reason or anywhere inside detail
// (values and keys, recursively) becomes `[REDACTED:NAME]`.
//
// Fast path: one precompiled regex tests each string; only strings that
// contain a secret take the slow path, which finds every occurrence of every
// secret (overlapping ones included) with indexOf and merges them, so no
// fragment of an overlapping secret survives. Unchanged sub-trees are shared,
// not copied.
import type { EventInput } from './event.js';

export type TextRedactor = (text: string) => string;
export type EventRedactor = (input: EventInput) => EventInput;

interface Secret {
  readonly name: string;
  readonly value: string;
}

const MAX_DEPTH = 64;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Returns a function replacing every secret value in a string, or the identity when there are none. */
export function createTextRedactor(secrets: Readonly<Record<string, string>>): TextRedactor {
  const list: Secret[] = Object.entries(secrets)
    .filter(([, value]) => typeof value === 'string' && value.length > 0)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => b.value.length - a.value.length);
  if (list.length === 0) return (text) => text;
  const detector = new RegExp(list.map((s) => escapeRegExp(s.value)).join('|'));
  return (text) => (detector.test(text) ? replaceAll(text, list) : text);
}

interface Hit { start: number; end: number; name: string }

function replaceAll(text: string, list: readonly Secret[]): string {
  const hits: Hit[] = [];
  for (const { name, value } of list) {
    for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
      hits.push({ start: at, end: at + value.length, name });
    }
  }
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let cursor = 0;
  let i = 0;
  while (i < hits.length) {
    const first = hits[i] as Hit;
    let end = first.end;
    const names = [first.name];
    for (i++; i < hits.length && (hits[i] as Hit).start < end; i++) {
      const hit = hits[i] as Hit;
      // A hit wholly inside another adds nothing (and naming it would hint at the longer value).
      if (hit.end > end) {
        end = hit.end;
        if (!names.includes(hit.name)) names.push(hit.name);
      }
    }
    out += text.slice(cursor, first.start) + `[REDACTED:${names.join(',')}]`;
    cursor = end;
  }
  return out + text.slice(cursor);
}

/**
 * Returns a function that copies an event input with every secret value
 * replaced. With no (non-empty) secrets it is the identity. Numbers whose
 * decimal form contains a secret are replaced by the redacted string.
 */
export function createRedactor(secrets: Readonly<Record<string, string>>): EventRedactor {
  const text = createTextRedactor(secrets);
  const hasSecrets = Object.values(secrets).some((v) => typeof v === 'string' && v.length > 0);
  if (!hasSecrets) return (input) => input;

  const str = (value: string | null | undefined): string | null | undefined =>
    typeof value === 'string' ? text(value) : value;

  const walk = (value: unknown, depth: number, seen: Set<object>): unknown => {
    switch (typeof value) {
      case 'string': return text(value);
      case 'number':
      case 'bigint': {
        const asText = String(value);
        const redacted = text(asText);
        return redacted === asText ? value : redacted;
      }
      case 'object': break;
      default: return value;
    }
    if (value === null) return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Truncated]';
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      return walk((toJSON as () => unknown).call(value), depth + 1, seen);
    }
    seen.add(value);
    try {
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          const next = walk(item, depth + 1, seen);
          if (next !== item && copy === undefined) copy = value.slice(0, i);
          if (copy !== undefined) copy.push(next);
        }
        return copy ?? value;
      }
      return walkObject(value as Record<string, unknown>, depth, seen);
    } finally {
      seen.delete(value);
    }
  };

  const walkObject = (obj: Record<string, unknown>, depth: number, seen: Set<object>): Record<string, unknown> => {
    const keys = Object.keys(obj);
    let copy: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = obj[key];
      const nextKey = text(key);
      const next = walk(item, depth + 1, seen);
      if (copy === undefined && (nextKey !== key || next !== item)) {
        copy = {};
        for (let j = 0; j < i; j++) setOwn(copy, keys[j] as string, obj[keys[j] as string]);
      }
      if (copy !== undefined) setOwn(copy, nextKey, next);
    }
    return copy ?? obj;
  };

  return (input) => {
    const out: { -readonly [K in keyof EventInput]: EventInput[K] } = { ...input };
    if (input.tool != null) out.tool = str(input.tool);
    if (input.target != null) out.target = str(input.target);
    if (input.reason != null) out.reason = str(input.reason);
    if (input.detail !== undefined) {
      out.detail = walk(input.detail, 0, new Set()) as Record<string, unknown>;
    }
    return out;
  };
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}
