// `personae run PERSONA [--workspace DIR] [--on-behalf-of WHO] -- CMD ARGS...`
import type { AuditStore } from '../../sandbox/audit/store.js';
import type { RunningProcess, StdioMode } from '../../sandbox/launch/spawn.js';
import { LaunchRefusal, prepareLaunch, refusalExitCode, sessionOptions, type PreparedLaunch } from '../launch.js';
import { currentUser, home, openStore } from './context.js';
import { fail, info } from './output.js';

export interface RunOptions {
  readonly workspace: string;
  readonly onBehalfOf?: string;
  readonly tty: boolean;
}

export async function runCommand(name: string, command: readonly string[], opts: RunOptions): Promise<number> {
  let prepared: PreparedLaunch;
  try {
    prepared = prepareLaunch({ home: home(), persona: name, workspace: opts.workspace, command, onBehalfOf: opts.onBehalfOf ?? currentUser() });
  } catch (e) {
    if (e instanceof LaunchRefusal) return fail(e.message, refusalExitCode(e.code));
    throw e;
  }
  const { persona } = prepared;
  const { mark } = await import('../../sandbox/timing.js');
  mark('persona loaded');
  const { Session } = await import('../../sandbox/session.js');
  mark('loaded session code');
  const tty = opts.tty && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const stdio: StdioMode = tty ? { kind: 'pty', cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 } : { kind: 'inherit' };
  // The audit log is the record: if it cannot be written (disk full), the session stops itself.
  // The session opens it once the sandbox is spawned, so the two overlap.
  const onStoreError: { fail?: (message: string) => void } = {};
  const opened: { store?: AuditStore } = {};
  const openLater = async (): Promise<AuditStore> =>
    (opened.store = await openStore(false, (e) => onStoreError.fail?.(`the audit log cannot be written (${e.message}); stopping the session`)));
  let session;
  try {
    // This process exits when the session ends.
    session = await Session.start({ ...sessionOptions(prepared, { store: openLater, stdio }), exitsAfter: true });
  } catch (e) {
    opened.store?.close();
    return fail((e as Error).message, 3);
  }
  info(`session ${session.id} (persona ${persona.name}, ${persona.agent})`);
  const running = session;
  onStoreError.fail = (message) => {
    info(message);
    running.fail(message);
  };
  const onSignal = (): void => {
    void session.stop('stopped');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  if (tty) attachTerminal(session.process);
  const end = await session.ended;
  opened.store?.close();
  mark('store closed');
  if (end.reason !== 'exit') info(`session ${session.id} ended: ${end.reason}${end.failure !== undefined ? ` (${end.failure})` : ''}`);
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
