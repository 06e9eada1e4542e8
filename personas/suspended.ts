// Suspended personas: a kill switch that outlives the session. A suspended
// persona refuses to run until resumed. One small JSON file, replaced
// atomically; an unreadable list fails closed (the caller refuses to run).
import * as z from 'zod/mini';
import { PrivateFileError, readPrivateFile, writePrivateFileAtomic } from './private-file.js';
import { suspendedPath } from './paths.js';
import { SLUG_RE } from './schema.js';

const WHAT = 'suspended-personas file';

/** A one-line problem with the suspended list. */
export class SuspendedListError extends Error {
  override readonly name = 'SuspendedListError';
}

const SuspendedFileSchema = z.strictObject({
  version: z.literal(1),
  suspended: z.array(z.string().check(z.regex(SLUG_RE))),
});

function assertName(name: string): void {
  if (typeof name !== 'string' || !SLUG_RE.test(name)) {
    throw new SuspendedListError(`${JSON.stringify(String(name).slice(0, 60))} is not a valid persona name`);
  }
}

/** The names of suspended personas. Throws SuspendedListError when the file is unreadable or malformed. */
export function listSuspended(home: string): Set<string> {
  const path = suspendedPath(home);
  let text: string | undefined;
  try {
    // Not secret, but whoever can write it can lift a suspension: refuse group/world-writable files.
    text = readPrivateFile(path, WHAT, 1024 * 1024, 0o022);
  } catch (err) {
    if (err instanceof PrivateFileError) throw new SuspendedListError(err.message);
    throw err;
  }
  if (text === undefined) return new Set();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SuspendedListError(`${WHAT} ${path} is not valid JSON; fix or remove it (removing it resumes every persona)`);
  }
  const parsed = SuspendedFileSchema.safeParse(data);
  if (!parsed.success) throw new SuspendedListError(`${WHAT} ${path} is not in the format personae writes; fix or remove it`);
  return new Set(parsed.data.suspended);
}

function writeSuspended(home: string, names: ReadonlySet<string>): void {
  const text = `${JSON.stringify({ version: 1, suspended: [...names].sort() }, null, 2)}\n`;
  try {
    writePrivateFileAtomic(suspendedPath(home), text, WHAT, false);
  } catch (err) {
    if (err instanceof PrivateFileError) throw new SuspendedListError(err.message);
    throw err;
  }
}

/** Suspends a persona; false when it already was. */
export function suspendPersona(home: string, name: string): boolean {
  assertName(name);
  const names = listSuspended(home);
  if (names.has(name)) return false;
  names.add(name);
  writeSuspended(home, names);
  return true;
}

/** Lifts a suspension; false when the persona was not suspended. */
export function resumePersona(home: string, name: string): boolean {
  assertName(name);
  const names = listSuspended(home);
  if (!names.delete(name)) return false;
  writeSuspended(home, names);
  return true;
}
