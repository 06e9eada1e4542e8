// Wrapper commands and embedded scripts.
//
// Deny rules must not be dodged by running the denied command through another
// program: `sudo git push`, `env FOO=1 git push`, `/usr/bin/git push`,
// `command git push`, `xargs git push`, `find . -exec git push \;`,
// `git -C /tmp push`. `commandVariants` lists every spelling a simple command
// could be judged as; deny and ask rules are tested against all of them, allow
// rules only against the first (the command as written), so a wrapper can
// only ever make a call stricter.
//
// Over-matching is deliberate: after a wrapper, every later non-option word
// starts a variant (at most WRAPPER_SUFFIXES of them), so unknown wrapper
// options (`sudo -u root git push`, `timeout -s KILL 5 git push`) cannot hide
// the command. The price is rare false denials such as `sudo echo git push`.
//
// `embeddedScripts` finds code passed as a string to another interpreter
// (`bash -c '...'`, `eval ...`, `su -c`, `watch '...'`, `env -S`), so the
// splitter can split that code too, and flags code it cannot see (a shell
// reading its script from stdin, `bash -c "$X"`).

import type { ShellWord } from './shell-types.js';

export interface CommandVariant {
  readonly words: readonly ShellWord[];
  /** True when the wrapper appends words read at run time (xargs, parallel). */
  readonly trailingDynamic: boolean;
}

const WRAPPERS = new Set([
  'sudo', 'doas', 'env', 'command', 'builtin', 'exec', 'nohup', 'setsid', 'time', 'nice', 'ionice',
  'stdbuf', 'timeout', 'chrt', 'taskset', 'xargs', 'parallel', 'unbuffer', 'caffeinate', 'fakeroot',
  'proxychains', 'proxychains4', 'torsocks', 'catchsegv', 'strace', 'ltrace', 'valgrind', 'coproc',
  'busybox', 'nsenter', 'unshare', 'chroot', 'flock', 'runuser', 'watch', 'firejail', 'systemd-run',
  'sg', 'newgrp', 'script', 'faketime', 'eatmydata', 'numactl', 'cpulimit', 'prlimit', 'bwrap',
]);
const TRAILING_DYNAMIC = new Set(['xargs', 'parallel']);
const SHELLS = new Set(['sh', 'bash', 'rbash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'yash', 'posh', 'fish']);
const GIT_ARG_OPTIONS = new Set([
  '-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--super-prefix', '--config-env',
  '--attr-source', '--list-cmds',
]);
const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);
const ASSIGNMENT_RE = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;
const WRAPPER_SUFFIXES = 16;
const MAX_VARIANTS = 96;

export function basename(value: string): string {
  const slash = value.lastIndexOf('/');
  return slash === -1 || slash === value.length - 1 ? value : value.slice(slash + 1);
}

/** The command as written first, then every unwrapped spelling (see the file comment). */
export function commandVariants(words: readonly ShellWord[]): CommandVariant[] {
  const out: CommandVariant[] = [];
  const seen = new Set<string>();
  const visit = (ws: readonly ShellWord[], trailing: boolean, depth: number): void => {
    if (ws.length === 0 || depth > 8 || out.length >= MAX_VARIANTS) return;
    const key = `${trailing ? 1 : 0}\u0000${ws.map((w) => w.value).join('\u0000')}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ words: ws, trailingDynamic: trailing });
    const head = ws[0];
    if (head === undefined || head.dynamic) return;
    const name = basename(head.value);
    if (name !== head.value) visit([{ ...head, value: name }, ...ws.slice(1)], trailing, depth + 1);
    if (WRAPPERS.has(name)) {
      const nextTrailing = trailing || TRAILING_DYNAMIC.has(name);
      let starts = 0;
      for (let j = 1; j < ws.length && starts < WRAPPER_SUFFIXES; j++) {
        const w = ws[j];
        if (w === undefined || (!w.dynamic && (w.value.startsWith('-') || ASSIGNMENT_RE.test(w.value)))) continue;
        starts++;
        visit(ws.slice(j), nextTrailing, depth + 1);
      }
    }
    if (name === 'git') {
      const rest = stripGitGlobalOptions(ws.slice(1));
      if (rest.length !== ws.length - 1) visit([{ ...head, value: name }, ...rest], trailing, depth + 1);
    }
    if (name === 'find') {
      for (const sub of findExecCommands(ws.slice(1))) visit(sub, trailing, depth + 1);
    }
  };
  visit(words, false, 0);
  return out;
}

function stripGitGlobalOptions(args: readonly ShellWord[]): readonly ShellWord[] {
  let i = 0;
  while (i < args.length) {
    const w = args[i];
    if (w === undefined || w.dynamic || !w.value.startsWith('-') || w.value === '--') break;
    i += GIT_ARG_OPTIONS.has(w.value) ? 2 : 1;
  }
  return args.slice(i);
}

function findExecCommands(args: readonly ShellWord[]): ShellWord[][] {
  const out: ShellWord[][] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i];
    if (w === undefined || !FIND_EXEC.has(w.value)) continue;
    const sub: ShellWord[] = [];
    for (i++; i < args.length; i++) {
      const a = args[i];
      if (a === undefined || a.value === ';' || a.value === '+') break;
      sub.push(a);
    }
    if (sub.length > 0) out.push(sub);
  }
  return out;
}

export interface EmbeddedScripts {
  /** Literal script strings to split as commands of their own. */
  readonly scripts: readonly string[];
  /** Code runs that cannot be seen (a dynamic script string). */
  readonly opaque: boolean;
  /** A shell reads its script from stdin (a pipe, a heredoc or a here-string). */
  readonly readsStdin: boolean;
}

export function embeddedScripts(words: readonly ShellWord[]): EmbeddedScripts {
  const scripts: string[] = [];
  let opaque = false;
  let readsStdin = false;
  const add = (script: ShellWord | readonly ShellWord[] | undefined, trailing: boolean): void => {
    if (script === undefined) return;
    const parts = Array.isArray(script) ? (script as readonly ShellWord[]) : [script as ShellWord];
    if (parts.length === 0) return;
    if (trailing || parts.some((w) => w.dynamic)) opaque = true;
    scripts.push(parts.map((w) => w.value).join(' '));
  };
  for (const v of commandVariants(words)) {
    const head = v.words[0];
    if (head === undefined || head.dynamic) continue;
    const name = basename(head.value);
    const args = v.words.slice(1);
    if (SHELLS.has(name)) {
      const inv = shellInvocation(args);
      if (inv.script !== undefined) add(inv.script, v.trailingDynamic);
      else if (inv.stdin) readsStdin = true;
    } else if (name === 'eval') {
      add(args, v.trailingDynamic);
    } else if (name === 'su' || name === 'runuser' || name === 'flock' || name === 'script' || name === 'sg') {
      add(optionValue(args, ['-c', '--command'], true), v.trailingDynamic);
    } else if (name === 'env') {
      add(optionValue(args, ['-S', '--split-string'], false), v.trailingDynamic);
    } else if (name === 'watch') {
      add(watchCommand(args), v.trailingDynamic);
    }
  }
  return { scripts, opaque, readsStdin };
}

interface ShellInvocation {
  readonly script?: ShellWord;
  readonly stdin: boolean;
}

function shellInvocation(args: readonly ShellWord[]): ShellInvocation {
  let hasC = false;
  let stdinFlag = false;
  let i = 0;
  for (; i < args.length; i++) {
    const w = args[i];
    if (w === undefined || w.dynamic) break;
    const a = w.value;
    if (a === '--' || a === '-') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      if (a === '--rcfile' || a === '--init-file') i++;
      continue;
    }
    if ((a.startsWith('-') || a.startsWith('+')) && a.length > 1) {
      const letters = a.slice(1);
      if (letters.includes('c')) hasC = true;
      if (letters.includes('s')) stdinFlag = true;
      if (letters.includes('o') || letters.includes('O')) i++;
      continue;
    }
    break;
  }
  const operand = args[i];
  if (hasC) return operand === undefined ? { stdin: false } : { script: operand, stdin: false };
  return { stdin: stdinFlag || operand === undefined };
}

/** `-c CMD`, `-cCMD`, `--command=CMD`, `--command CMD`. */
function optionValue(args: readonly ShellWord[], names: readonly string[], clustered: boolean): ShellWord | undefined {
  for (let i = 0; i < args.length; i++) {
    const w = args[i];
    if (w === undefined) break;
    for (const name of names) {
      if (w.value === name) return args[i + 1];
      if (name.startsWith('--') && w.value.startsWith(`${name}=`)) return { ...w, value: w.value.slice(name.length + 1) };
      if (clustered && !name.startsWith('--') && w.value.startsWith(name) && w.value.length > name.length) {
        return { ...w, value: w.value.slice(name.length) };
      }
    }
  }
  return undefined;
}

/** watch runs its arguments through `sh -c` unless -x/--exec is given. */
function watchCommand(args: readonly ShellWord[]): readonly ShellWord[] | undefined {
  let i = 0;
  for (; i < args.length; i++) {
    const w = args[i];
    if (w === undefined || w.dynamic || !w.value.startsWith('-')) break;
    if (w.value === '-x' || w.value === '--exec') return undefined;
    if (w.value === '--') {
      i++;
      break;
    }
    if (w.value === '-n' || w.value === '--interval' || w.value === '-q' || w.value === '--equexit') i++;
  }
  return args.slice(i);
}
