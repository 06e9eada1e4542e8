// `personae secret set|list|rm`: values come from stdin and are never printed.
import { listSecretNames, removeSecret, setSecret } from '../../personas/secrets.js';
import { home } from './context.js';
import { fail, info } from './output.js';

async function readStdin(limit: number): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('value (end with Ctrl-D): ');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new Error('secret value is too large (64 KiB at most)');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function secretSet(name: string): Promise<number> {
  try {
    const value = await readStdin(64 * 1024 + 2);
    setSecret(home(), name, value);
    info(`secret ${name} stored`);
    return 0;
  } catch (e) {
    return fail((e as Error).message, 2);
  }
}

export function secretList(): number {
  try {
    for (const n of listSecretNames(home())) process.stdout.write(`${n}\n`);
    return 0;
  } catch (e) {
    return fail((e as Error).message, 2);
  }
}

export function secretRm(name: string): number {
  try {
    if (!removeSecret(home(), name)) return fail(`no secret "${name}"`, 1);
    info(`secret ${name} removed`);
    return 0;
  } catch (e) {
    return fail((e as Error).message, 2);
  }
}
