// `personae run PERSONA [--workspace DIR] [--on-behalf-of WHO] -- CMD ARGS...`
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { checkRunnable, findPersona } from '../../personas/loader.js';
import { personaHomeDir, runDir } from '../../personas/paths.js';
import { getSecrets } from '../../personas/secrets.js';
import { listSuspended } from '../../personas/suspended.js';
import type { RunningProcess, StdioMode } from '../../sandbox/launch/spawn.js';
import { adapterFor } from '../../sandbox/intercept/adapters.js';
import { currentUser, home, openStore } from './context.js';
import { fail, info } from './output.js';

export interface RunOptions {
  readonly workspace: string;
  readonly onBehalfOf?: string;
  readonly tty: boolean;
}

function resolveWorkspace(dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    throw new Error(`workspace ${dir} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new Error(`workspace ${dir} is not a directory`);
  return real;
}

export async function runCommand(name: string, command: readonly string[], opts: RunOptions): Promise<number> {
  if (command.length === 0) return fail('nothing to run: personae run PERSONA -- COMMAND [ARGS...]', 2);
  const h = home();
  const found = findPersona(h, name);
  if (!found.ok) return fail(found.errors.join('\n'), 2);
  const { persona, path } = found;
  const refusal = checkRunnable(persona, new Date(), listSuspended(h), path);
  if (refusal) return fail(refusal, 3);
  const refs = Object.entries(persona.credentials);
  const secrets = getSecrets(h, refs.map(([, ref]) => ref.slice('secret:'.length)));
  if (secrets.missing.length > 0) {
    return fail(`persona "${persona.name}" needs secret ${secrets.missing.map((m) => `"${m}"`).join(', ')}; store it with: personae secret set ${secrets.missing[0] ?? ''}`, 3);
  }
  const credentials: Record<string, string> = {};
  for (const [env, ref] of refs) credentials[env] = secrets.values[ref.slice('secret:'.length)] ?? '';
  let workspace: string;
  try {
    workspace = resolveWorkspace(opts.workspace);
  } catch (e) {
    return fail((e as Error).message, 2);
  }

  const { Session } = await import('../../sandbox/session.js');
  const { mark } = await import('../../sandbox/timing.js');
  mark('loaded session code');
  const { parseHostMap } = await import('../../sandbox/net/host-map.js');
  let hostMap;
  try {
    hostMap = process.env.PERSONAE_HOSTS ? parseHostMap(process.env.PERSONAE_HOSTS) : undefined;
  } catch (e) {
    return fail(`PERSONAE_HOSTS: ${(e as Error).message}`, 2);
  }
  const tty = opts.tty && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const stdio: StdioMode = tty ? { kind: 'pty', cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 } : { kind: 'inherit' };
  const store = await openStore();
  mark('store open');
  let session;
  try {
    session = await Session.start({
      persona,
      personaeHome: h,
      personaHome: personaHomeDir(h, persona.name),
      runDir: runDir(h),
      workspace,
      command,
      onBehalfOf: opts.onBehalfOf ?? currentUser(),
      userHome: homedir(),
      credentials,
      store,
      stdio,
      adapter: adapterFor(persona, { workspace }),
      hostMap,
    });
  } catch (e) {
    store.close();
    return fail((e as Error).message, 3);
  }
  info(`session ${session.id} (persona ${persona.name}, ${persona.agent})`);
  const onSignal = (): void => {
    void session.stop('stopped');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  if (tty) attachTerminal(session.process);
  const end = await session.ended;
  store.close();
  if (end.reason !== 'exit') info(`session ${session.id} ended: ${end.reason}`);
  return end.exitCode;
}

function attachTerminal(proc: RunningProcess | undefined): void {
  if (!proc) return;
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', (d: Buffer) => proc.write(d.toString('utf8')));
  proc.onData((chunk) => process.stdout.write(chunk));
  process.stdout.on('resize', () => proc.resize(process.stdout.columns, process.stdout.rows));
  void proc.exited.then(() => {
    stdin.setRawMode(false);
    stdin.pause();
  });
}
