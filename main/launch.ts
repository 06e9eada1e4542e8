// What every launch does before `Session.start`, shared by `personae run` and
// the backend: find the persona, refuse what may not run (unknown, invalid,
// suspended, expired, missing secret, missing bwrap, bad workspace), gather
// its credentials, and turn it all into session options. Refusals are one
// line with a code the UI and the CLI's exit status both use.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { BASE_URL_VARIABLES, MODEL_API_KEYS, baseUrlAuthority } from '../personas/agent-hosts.js';
import { credentialSpec } from '../personas/credential-ref.js';
import { isExpired, checkRunnable, findPersona } from '../personas/loader.js';
import { personaHomeDir, runDir } from '../personas/paths.js';
import type { Persona } from '../personas/schema.js';
import { getSecrets } from '../personas/secrets.js';
import { listSuspended } from '../personas/suspended.js';
import { adapterFor, hookTimeoutSeconds } from '../sandbox/intercept/adapters.js';
import { findHostTools, MissingToolError } from '../sandbox/launch/host-tools.js';
import type { StdioMode } from '../sandbox/launch/spawn.js';
import type { CredentialGrant } from '../sandbox/net/credentials.js';
import { parseHostMap, type HostMapTarget } from '../sandbox/net/host-map.js';
import type { SessionOptions } from '../sandbox/session.js';
import type { ReviewedWorktree, SessionWorktree } from '../sandbox/worktree/session-worktree.js';

export type LaunchRefusalCode =
  | 'not-found' | 'invalid' | 'suspended' | 'expired' | 'missing-secret' | 'missing-tool' | 'workspace' | 'refused' | 'worktree';

/** A launch that must not happen, said in one line. */
export class LaunchRefusal extends Error {
  override readonly name = 'LaunchRefusal';
  constructor(readonly code: LaunchRefusalCode, message: string) {
    super(message);
  }
}

/** `personae run`'s exit status for a refusal: 2 for a usage problem, 3 for a refusal. */
export function refusalExitCode(code: LaunchRefusalCode): number {
  return code === 'not-found' || code === 'invalid' || code === 'workspace' || code === 'worktree' ? 2 : 3;
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
  readonly credentials: readonly CredentialGrant[];
  readonly hostMap: ReadonlyMap<string, HostMapTarget> | undefined;
  /** Extra CAs the proxy trusts for upstream servers (PERSONAE_UPSTREAM_CA), PEM. */
  readonly upstreamCa: string | undefined;
}

/** The credentials with their values and hosts; a short-form model API key also goes to the agent's overridden base URL host. */
function gatherCredentials(persona: Persona, env: NodeJS.ProcessEnv, home: string): CredentialGrant[] {
  const specs = Object.entries(persona.credentials).map(([name, ref]) => ({ name, spec: credentialSpec(name, ref) }));
  const secrets = getSecrets(home, specs.map((s) => s.spec.secret));
  if (secrets.missing.length > 0) {
    throw new LaunchRefusal(
      'missing-secret',
      `persona "${persona.name}" needs secret ${secrets.missing.map((m) => `"${m}"`).join(', ')}; store it with: personae secret set ${secrets.missing[0] ?? ''}`,
    );
  }
  return specs.map(({ name, spec }) => {
    const agent = MODEL_API_KEYS[name];
    const override = spec.knownHosts && agent !== undefined ? baseUrlAuthority(env[BASE_URL_VARIABLES[agent]]) : undefined;
    const hosts = override !== undefined && !spec.hosts.includes(override) ? [...spec.hosts, override] : spec.hosts;
    return { env: name, secret: spec.secret, value: secrets.values[spec.secret] ?? '', inject: spec.inject, hosts };
  });
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of PERSONAE_UPSTREAM_CA, or a refusal naming the file and what is wrong with it. */
function readUpstreamCa(file: string | undefined): string | undefined {
  if (file === undefined || file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LaunchRefusal('invalid', `PERSONAE_UPSTREAM_CA: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
  }
  const certs = text.match(PEM_CERT_RE);
  if (!certs) throw new LaunchRefusal('invalid', `PERSONAE_UPSTREAM_CA: ${file} holds no PEM certificate`);
  return `${certs.join('\n')}\n`;
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
  const found = findPersona(input.home, input.persona);
  if (!found.ok) {
    const message = found.errors.join('\n');
    throw new LaunchRefusal(message.startsWith('unknown persona') ? 'not-found' : 'invalid', message);
  }
  const { persona, path } = found;
  const suspended = suspendedSet(input.home);
  const refusal = checkRunnable(persona, input.now ?? new Date(), suspended, path);
  if (refusal) throw new LaunchRefusal(suspended.has(persona.name) ? 'suspended' : isExpired(persona, input.now) ? 'expired' : 'refused', refusal);
  const env = input.env ?? process.env;
  const credentials = gatherCredentials(persona, env, input.home);
  const workspace = resolveWorkspace(input.workspace);
  const upstreamCa = readUpstreamCa(env.PERSONAE_UPSTREAM_CA);
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
  // No command: the persona's own default (an interactive shell for a shell persona), as in the app.
  const command = input.command.length > 0 ? input.command : defaultAgentCommand(persona.agent, undefined);
  return { persona, file: path, home: input.home, workspace, command, onBehalfOf: input.onBehalfOf, credentials, hostMap, upstreamCa };
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
    ...(p.upstreamCa !== undefined ? { upstreamCa: p.upstreamCa } : {}),
    ...(io.sessionId !== undefined ? { sessionId: io.sessionId } : {}),
    ...(io.worktree !== undefined ? { worktree: io.worktree } : {}),
    ...(io.review !== undefined ? { review: io.review } : {}),
  };
}

/** Is there a bash to run (the sandbox sees the host's /usr read-only)? */
function bashPresent(): boolean {
  return existsSync('/bin/bash') || existsSync('/usr/bin/bash');
}

/** The command an agent kind runs when the launch names none; a prompt becomes its first argument. A shell persona gets an interactive shell: bash, or sh without bash. */
export function defaultAgentCommand(agent: Persona['agent'], prompt: string | undefined, hasBash = bashPresent()): string[] {
  const p = prompt !== undefined && prompt.trim() !== '' ? prompt : undefined;
  switch (agent) {
    case 'claude':
      return p ? ['claude', p] : ['claude'];
    case 'codex':
      return p ? ['codex', p] : ['codex'];
    case 'gemini':
      return p ? ['gemini', '-i', p] : ['gemini'];
    case 'shell':
      return p ? ['sh', '-c', p] : hasBash ? ['bash', '-i'] : ['sh', '-i'];
  }
}
