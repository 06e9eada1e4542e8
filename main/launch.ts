// What every launch does before `Session.start`, shared by `personae run` and
// the backend: find the persona, refuse what may not run (unknown, invalid,
// suspended, expired, missing secret, missing bwrap, bad workspace), gather
// its credentials, and turn it all into session options. Refusals are one
// line with a code the UI and the CLI's exit status both use.
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isExpired, checkRunnable, findPersona } from '../personas/loader.js';
import { personaHomeDir, runDir } from '../personas/paths.js';
import type { Persona } from '../personas/schema.js';
import { getSecrets } from '../personas/secrets.js';
import { listSuspended } from '../personas/suspended.js';
import { adapterFor, hookTimeoutSeconds } from '../sandbox/intercept/adapters.js';
import { findHostTools, MissingToolError } from '../sandbox/launch/host-tools.js';
import type { StdioMode } from '../sandbox/launch/spawn.js';
import { parseHostMap, type HostMapTarget } from '../sandbox/net/host-map.js';
import type { SessionOptions } from '../sandbox/session.js';
import type { ReviewedWorktree, SessionWorktree } from '../sandbox/worktree/session-worktree.js';

export type LaunchRefusalCode =
  | 'not-found' | 'invalid' | 'suspended' | 'expired' | 'missing-secret' | 'missing-tool' | 'workspace' | 'no-command' | 'refused' | 'worktree';

/** A launch that must not happen, said in one line. */
export class LaunchRefusal extends Error {
  override readonly name = 'LaunchRefusal';
  constructor(readonly code: LaunchRefusalCode, message: string) {
    super(message);
  }
}

/** `personae run`'s exit status for a refusal: 2 for a usage problem, 3 for a refusal. */
export function refusalExitCode(code: LaunchRefusalCode): number {
  return code === 'not-found' || code === 'invalid' || code === 'workspace' || code === 'no-command' || code === 'worktree' ? 2 : 3;
}

export interface LaunchInput {
  readonly home: string;
  readonly persona: string;
  readonly workspace: string;
  readonly command: readonly string[];
  readonly onBehalfOf: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: Date;
  /** Check for bwrap, socat and the native helpers up front (the backend does; the CLI lets the session say it). */
  readonly checkTools?: boolean;
}

export interface PreparedLaunch {
  readonly persona: Persona;
  readonly file: string;
  readonly home: string;
  readonly workspace: string;
  readonly command: readonly string[];
  readonly onBehalfOf: string;
  readonly credentials: Readonly<Record<string, string>>;
  readonly hostMap: ReadonlyMap<string, HostMapTarget> | undefined;
}

function resolveWorkspace(dir: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    throw new LaunchRefusal('workspace', `workspace ${dir} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new LaunchRefusal('workspace', `workspace ${dir} is not a directory`);
  return real;
}

function suspendedSet(home: string): Set<string> {
  try {
    return listSuspended(home);
  } catch (e) {
    // An unreadable suspension list fails closed.
    throw new LaunchRefusal('refused', (e as Error).message);
  }
}

/** Everything a launch needs, or a LaunchRefusal saying why it may not happen. Spawns nothing. */
export function prepareLaunch(input: LaunchInput): PreparedLaunch {
  if (input.command.length === 0) throw new LaunchRefusal('no-command', 'nothing to run: personae run PERSONA -- COMMAND [ARGS...]');
  const found = findPersona(input.home, input.persona);
  if (!found.ok) {
    const message = found.errors.join('\n');
    throw new LaunchRefusal(message.startsWith('unknown persona') ? 'not-found' : 'invalid', message);
  }
  const { persona, path } = found;
  const suspended = suspendedSet(input.home);
  const refusal = checkRunnable(persona, input.now ?? new Date(), suspended, path);
  if (refusal) throw new LaunchRefusal(suspended.has(persona.name) ? 'suspended' : isExpired(persona, input.now) ? 'expired' : 'refused', refusal);
  const refs = Object.entries(persona.credentials);
  const secrets = getSecrets(input.home, refs.map(([, ref]) => ref.slice('secret:'.length)));
  if (secrets.missing.length > 0) {
    throw new LaunchRefusal(
      'missing-secret',
      `persona "${persona.name}" needs secret ${secrets.missing.map((m) => `"${m}"`).join(', ')}; store it with: personae secret set ${secrets.missing[0] ?? ''}`,
    );
  }
  const credentials: Record<string, string> = {};
  for (const [env, ref] of refs) credentials[env] = secrets.values[ref.slice('secret:'.length)] ?? '';
  const workspace = resolveWorkspace(input.workspace);
  const env = input.env ?? process.env;
  let hostMap: Map<string, HostMapTarget> | undefined;
  try {
    hostMap = env.PERSONAE_HOSTS ? parseHostMap(env.PERSONAE_HOSTS) : undefined;
  } catch (e) {
    throw new LaunchRefusal('invalid', `PERSONAE_HOSTS: ${(e as Error).message}`);
  }
  if (input.checkTools) {
    try {
      findHostTools(env);
    } catch (e) {
      if (e instanceof MissingToolError) throw new LaunchRefusal('missing-tool', e.message);
      throw e;
    }
  }
  return { persona, file: path, home: input.home, workspace, command: input.command, onBehalfOf: input.onBehalfOf, credentials, hostMap };
}

/** The options `Session.start` takes for a prepared launch. */
export function sessionOptions(
  p: PreparedLaunch,
  io: {
    readonly store: SessionOptions['store'];
    readonly stdio: StdioMode;
    readonly userHome?: string;
    readonly sessionId?: string;
    readonly worktree?: SessionWorktree;
    readonly review?: ReviewedWorktree;
  },
): SessionOptions {
  return {
    persona: p.persona,
    personaeHome: p.home,
    personaHome: personaHomeDir(p.home, p.persona.name),
    runDir: runDir(p.home),
    workspace: p.workspace,
    command: p.command,
    onBehalfOf: p.onBehalfOf,
    userHome: io.userHome ?? homedir(),
    credentials: p.credentials,
    store: io.store,
    stdio: io.stdio,
    adapter: adapterFor(p.persona, { workspace: p.workspace, personaHome: personaHomeDir(p.home, p.persona.name), hookTimeoutSeconds: hookTimeoutSeconds(p.persona) }),
    hostMap: p.hostMap,
    ...(io.sessionId !== undefined ? { sessionId: io.sessionId } : {}),
    ...(io.worktree !== undefined ? { worktree: io.worktree } : {}),
    ...(io.review !== undefined ? { review: io.review } : {}),
  };
}

/** The command an agent kind runs when the launch names none; a prompt becomes its first argument. */
export function defaultAgentCommand(agent: Persona['agent'], prompt: string | undefined): string[] {
  const p = prompt !== undefined && prompt.trim() !== '' ? prompt : undefined;
  switch (agent) {
    case 'claude':
      return p ? ['claude', p] : ['claude'];
    case 'codex':
      return p ? ['codex', p] : ['codex'];
    case 'gemini':
      return p ? ['gemini', '-i', p] : ['gemini'];
    case 'shell':
      return p ? ['sh', '-c', p] : ['bash', '-i'];
  }
}
