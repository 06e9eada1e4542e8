// One-line errors on stderr, never a stack trace.
export class UsageError extends Error {}

export function fail(message: string, code = 1): number {
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  for (const l of lines) process.stderr.write(l.startsWith('personae') ? `${l}\n` : `personae: ${l}\n`);
  return code;
}

export function info(message: string): void {
  process.stderr.write(`personae: ${message}\n`);
}
