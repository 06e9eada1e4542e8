// planLaunch: a pure function from a persona and a request to the exact
// command line, environment and mounts of one sandboxed session. It spawns
// nothing; spawn.ts runs a plan. Plans are unit-tested as data.
import path from 'node:path';
import type { Persona } from '../../personas/schema.js';
import type { FilesystemPlan } from '../policy/filesystem.js';

/** Fixed locations inside the sandbox. */
export const INSIDE = {
  runDir: '/run/personae',
  /** The session's bridge directory: the proxy's and the broker's sockets, and nothing else. */
  bridgeDir: '/run/personae/bridge',
  proxySocket: '/run/personae/bridge/proxy.sock',
  brokerSocket: '/run/personae/bridge/broker.sock',
  execLogSocket: '/run/personae/execlog.sock',
  emptyFile: '/run/personae/empty',
  /** A session whose proxy terminates TLS: bundle.pem (system CAs + the session CA) and session-ca.pem. */
  trustDir: '/run/personae/trust',
  seccomp: '/run/personae/bin/personae-seccomp',
  gitHooks: '/run/personae/git-hooks',
  hooks: '/run/personae/hooks',
  hookCommand: '/run/personae/hooks/personae-hook',
  proxyPort: 3128,
  brokerPort: 3129,
} as const;

export interface HostTools {
  readonly bwrap: string;
  readonly socat: string;
  /** personae-execlog: runs bwrap and records every exec inside (seccomp user notifications). */
  readonly execLog: string;
  /** personae-remount: hides again, inside a running sandbox, a protected path replaced on the host. */
  readonly remount: string;
  readonly seccomp: string;
  /** Host directory holding personae's read-only git hooks (commit-msg adds the On-behalf-of trailer). */
  readonly gitHooks: string;
  /** Host directory holding the agent hook command (personae-hook). */
  readonly hooks: string;
}

export interface LaunchRequest {
  readonly persona: Persona;
  readonly sessionId: string;
  readonly workspace: string;
  readonly command: readonly string[];
  readonly onBehalfOf: string;
  readonly personaHome: string;
  /**
   * Host directory that holds this session's proxy.sock and broker.sock (see
   * bridgeSockets) and nothing else; bound read-only inside. The sockets may
   * appear after the sandbox is spawned: its command starts only on the go.
   */
  readonly bridgeDir: string;
  /** Host path the exec logger writes to (a FIFO). */
  readonly traceOutput: string;
  /** Host path of the socket the exec logger listens on for the filter's listener (accepts one connection). */
  readonly execLogSocket: string;
  /**
   * The persona's command rules for the exec logger (see policy/exec-rules.ts):
   * the rules file, and the FIFO personae answers held (asked) execs on.
   * Without them every exec is allowed and recorded.
   */
  readonly execRules?: { readonly file: string; readonly answers: string };
  /**
   * Denied-read tripwires (launch/tripwires.ts): the file the exec logger
   * reads, and the mount point bound over each hidden path instead of an
   * empty tmpfs or file.
   */
  readonly tripwires?: { readonly file: string; readonly mountPoints: ReadonlyMap<string, string> };
  /**
   * The sandbox's /etc/passwd (passwdFor): the user's entry names the
   * persona's HOME, so programs that look the home directory up there (ssh,
   * curl) stay in it instead of reaching for the hidden real one.
   */
  readonly passwd?: string;
  /** An empty, unreadable file used to hide denied files. */
  readonly emptyFile: string;
  readonly fs: FilesystemPlan;
  /** Credential variables: placeholders (the proxy holds the values), or values a persona passes with `inject: env`. */
  readonly credentials: Readonly<Record<string, string>>;
  /** Host directory with the session's bundle.pem and session-ca.pem, when its proxy terminates TLS (bound read-only at INSIDE.trustDir). */
  readonly trustDir?: string;
  /** Variables from the parent allowed through (TERM, LANG, ...), already filtered. */
  readonly passEnv: Readonly<Record<string, string>>;
  /** Agent adapter additions: env, read-only files, PATH entries. */
  readonly adapterEnv?: Readonly<Record<string, string>>;
  readonly roBinds?: ReadonlyArray<{ readonly src: string; readonly dest: string }>;
  readonly extraPath?: readonly string[];
  readonly hidden: readonly string[];
  readonly tools: HostTools;
  /** How long the hook command waits for the broker (longer than an approval may wait). */
  readonly hookTimeoutSeconds?: number;
  /**
   * The sandbox runs on a terminal of personae's own (a PTY it spawned): the
   * sandbox keeps it as its controlling terminal and its command becomes the
   * terminal's foreground process group, so job control works inside. Without
   * it (pipes, or the user's own terminal inherited) the sandbox runs in a new
   * session with no controlling terminal at all.
   */
  readonly ownTerminal?: boolean;
  /** A worktree session's git mounts (worktree/layout.ts), placed after the writable grants. */
  readonly worktreeMounts?: readonly string[];
  /** Git config for every git in the sandbox, besides personae's hooks path. */
  readonly gitConfig?: Readonly<Record<string, string>>;
}

export interface LaunchPlan {
  /** argv[0] is the program to spawn on the host. */
  readonly argv: readonly string[];
  /** The complete environment of the spawned program; bwrap passes it into the sandbox. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/** Variables allowed in from the parent environment, when set. Everything else is dropped. */
export const PASS_ENV = ['TERM', 'COLORTERM', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'NO_COLOR', 'FORCE_COLOR', 'COLUMNS', 'LINES'] as const;

export const BASE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function pickPassEnv(parent: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PASS_ENV) {
    const v = parent[k];
    if (typeof v === 'string' && v.length < 4096 && !v.includes('\0')) out[k] = v;
  }
  return out;
}

/** Host paths of the proxy's and the broker's sockets in a bridge directory. */
export function bridgeSockets(bridgeDir: string): { readonly proxy: string; readonly broker: string } {
  return { proxy: path.join(bridgeDir, path.basename(INSIDE.proxySocket)), broker: path.join(bridgeDir, path.basename(INSIDE.brokerSocket)) };
}

/** The script the sandbox's first process runs: start the proxy and broker bridges, wait for them, then apply the syscall filter (handing its exec listener to the logger) and exec the command. */
export function initScript(ownTerminal = false): string {
  const bridge = (port: number, sock: string): string =>
    `socat -lf /dev/null TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr,backlog=512 UNIX-CONNECT:${sock} </dev/null >/dev/null 2>&1 &`;
  // personae-seccomp waits (bounded) until every bridge listens before the filter and the command:
  // it asks the kernel for listening sockets only (see sandbox/native/listen-wait.c).
  return [
    'set -e',
    bridge(INSIDE.proxyPort, INSIDE.proxySocket),
    bridge(INSIDE.brokerPort, INSIDE.brokerSocket),
    `exec ${INSIDE.seccomp} --wait-listen ${INSIDE.proxyPort},${INSIDE.brokerPort} --exec-log ${INSIDE.execLogSocket}${ownTerminal ? ' --foreground' : ''} "$@"`,
  ]
    .join('\n');
}

/**
 * Where TLS clients inside look for CAs: OpenSSL and Go, Python's requests,
 * curl and git read the bundle (system CAs + the session CA); Node keeps its
 * own roots and adds NODE_EXTRA_CA_CERTS, which gets the session CA alone
 * (Node parses that file at every start: the whole bundle costs a node
 * process ~40 ms here, one certificate ~18 ms).
 */
export function trustEnv(): Record<string, string> {
  const bundle = `${INSIDE.trustDir}/bundle.pem`;
  return {
    SSL_CERT_FILE: bundle,
    REQUESTS_CA_BUNDLE: bundle,
    CURL_CA_BUNDLE: bundle,
    GIT_SSL_CAINFO: bundle,
    NODE_EXTRA_CA_CERTS: `${INSIDE.trustDir}/session-ca.pem`,
  };
}

/** GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n for a set of git config values. */
export function gitConfigEnv(config: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(config);
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

export function sandboxEnv(req: LaunchRequest): Record<string, string> {
  const proxy = `http://127.0.0.1:${INSIDE.proxyPort}`;
  const socks = `socks5h://127.0.0.1:${INSIDE.proxyPort}`;
  const { persona } = req;
  const identity = persona.display_name;
  const email = `${persona.name}@personae.invalid`;
  return {
    ...req.passEnv,
    PATH: [...(req.extraPath ?? []), ...BASE_PATH].join(':'),
    HOME: req.personaHome,
    USER: persona.name,
    LOGNAME: persona.name,
    SHELL: '/bin/bash',
    TMPDIR: '/tmp',
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    ALL_PROXY: socks,
    all_proxy: socks,
    GIT_AUTHOR_NAME: identity,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: identity,
    GIT_COMMITTER_EMAIL: email,
    ...gitConfigEnv({ 'core.hooksPath': INSIDE.gitHooks, ...req.gitConfig }),
    PERSONAE_SESSION: req.sessionId,
    PERSONAE_PERSONA: persona.name,
    PERSONAE_ON_BEHALF_OF: req.onBehalfOf,
    PERSONAE_HOOK_TIMEOUT: String(req.hookTimeoutSeconds ?? 30),
    ...(req.adapterEnv ?? {}),
    ...(req.trustDir !== undefined ? trustEnv() : {}),
    ...req.credentials,
  };
}

export function bwrapArgs(req: LaunchRequest): string[] {
  const a: string[] = [];
  const add = (...xs: string[]): void => {
    a.push(...xs);
  };
  add('--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try');
  // A new session (no controlling terminal) unless the terminal is personae's own PTY: a
  // terminal of the user's would otherwise take keystrokes pushed with TIOCSTI (the filter
  // refuses that ioctl too). On personae's PTY, whatever is pushed reaches the sandbox only.
  add('--die-with-parent', ...(req.ownTerminal === true ? [] : ['--new-session']), '--cap-drop', 'ALL', '--hostname', 'personae');
  add('--ro-bind', '/', '/');
  if (req.passwd !== undefined) add('--ro-bind', req.passwd, '/etc/passwd');
  add('--proc', '/proc', '--dev', '/dev');
  add('--tmpfs', '/tmp', '--tmpfs', '/var/tmp', '--tmpfs', '/dev/shm', '--tmpfs', '/run');
  const trip = (p: string): string | undefined => req.tripwires?.mountPoints.get(p);
  for (const h of [...req.hidden].sort((a, b) => a.split('/').length - b.split('/').length)) {
    const mp = trip(h);
    if (mp !== undefined) add('--ro-bind', mp, h);
    else add('--tmpfs', h);
  }
  // The sandbox's own runtime: the bridged sockets and helpers, read-only.
  add('--ro-bind', req.bridgeDir, INSIDE.bridgeDir);
  add('--ro-bind', req.execLogSocket, INSIDE.execLogSocket);
  add('--ro-bind', req.emptyFile, INSIDE.emptyFile);
  if (req.trustDir !== undefined) add('--ro-bind', req.trustDir, INSIDE.trustDir);
  add('--ro-bind', req.tools.seccomp, INSIDE.seccomp);
  add('--ro-bind', req.tools.gitHooks, INSIDE.gitHooks);
  add('--ro-bind', req.tools.hooks, INSIDE.hooks);
  // The workspace is always visible (read-only unless granted), even inside a hidden home.
  add('--ro-bind', req.workspace, req.workspace);
  // Persona HOME and writable grants, then traps and hidden paths on top of them.
  add('--bind', req.personaHome, req.personaHome);
  for (const w of req.fs.writable) add('--bind', w, w);
  // A worktree session: the repository read-only, the session's own git parts over it.
  add(...(req.worktreeMounts ?? []));
  // Parents of hidden paths and traps become mount points (same content, still writable): they cannot be renamed away.
  for (const d of req.fs.anchors ?? []) add('--bind', d, d);
  for (const p of req.fs.pinned) add('--ro-bind', p, p);
  for (const ph of req.fs.placeholders) {
    if (ph.mode === 'pin') add('--ro-bind', ph.path, ph.path);
    else add('--tmpfs', ph.path, '--remount-ro', ph.path);
  }
  for (const h of req.fs.hidden) {
    const mp = trip(h.path);
    if (mp !== undefined) add('--ro-bind', mp, h.path);
    else if (h.kind === 'dir') add('--tmpfs', h.path, '--remount-ro', h.path);
    else add('--ro-bind', req.emptyFile, h.path);
  }
  for (const b of req.roBinds ?? []) add('--ro-bind', b.src, b.dest);
  add('--chdir', req.workspace);
  return a;
}

/** The full host command: the exec logger around bwrap around the init script. */
export function planLaunch(req: LaunchRequest): LaunchPlan {
  if (req.command.length === 0) throw new Error('no command to run');
  // --wait-go: the command starts only once the supervisor sends SIGUSR1 (its watcher and control socket are ready).
  const rules = req.execRules === undefined ? [] : ['--rules', req.execRules.file, '--answers', req.execRules.answers];
  const trips = req.tripwires === undefined ? [] : ['--tripwires', req.tripwires.file];
  const trace = [req.tools.execLog, '--listen', req.execLogSocket, '--out', req.traceOutput, ...rules, ...trips, '--wait-go', '--'];
  const argv = [
    ...trace,
    req.tools.bwrap, ...bwrapArgs(req), '--',
    '/bin/sh', '-c', initScript(req.ownTerminal), 'personae-init', ...req.command,
  ];
  return { argv, env: sandboxEnv(req), cwd: path.dirname(req.workspace) };
}

/** The destinations of a list of bwrap mount arguments (`--bind SRC DEST`, `--tmpfs DEST`, ...). */
export function mountDests(args: readonly string[]): string[] {
  const two = new Set(['--bind', '--ro-bind', '--bind-try', '--ro-bind-try', '--dev-bind', '--dev-bind-try', '--symlink']);
  const one = new Set(['--tmpfs', '--dir', '--remount-ro', '--proc', '--dev', '--mqueue']);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (two.has(a)) {
      const dest = args[i + 2];
      if (dest !== undefined && a !== '--symlink') out.push(dest);
      i += 2;
    } else if (one.has(a)) {
      const dest = args[i + 1];
      if (dest !== undefined && a !== '--remount-ro') out.push(dest);
      i += 1;
    }
  }
  return out;
}
