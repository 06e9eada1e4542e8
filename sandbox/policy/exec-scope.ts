// Which `Bash(...)` rules the exec logger can decide: a rule whose first word
// names a program. Shell builtins and keywords never reach exec, nor do
// operators between commands or assignments before one; such rules hold at
// the tool layer (agent hooks) only.

/** Shell builtins and keywords: never executed, so never seen at exec. */
const BUILTINS = new Set([
  'cd', 'export', 'source', '.', 'eval', 'alias', 'unalias', 'set', 'unset', 'read', 'exit', 'return', 'shift', 'trap',
  'ulimit', 'umask', 'wait', 'jobs', 'fg', 'bg', 'declare', 'typeset', 'local', 'readonly', 'let', 'shopt', 'builtin',
  'hash', 'type', 'history', 'pushd', 'popd', 'dirs', 'getopts', 'caller', 'complete', 'enable', 'help', 'logout',
  'mapfile', 'readarray', 'suspend', 'times', 'disown', 'if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until',
  'do', 'done', 'case', 'esac', 'function', 'select', '{', '}', '[[', ']]', '!', 'coproc',
]);

const OPERATOR_CHARS = '|&;<>()';
const ASSIGNMENT_RE = /^[A-Za-z_][A-Za-z0-9_]*\+?=/;

/** Why a normalised rule text cannot be decided at exec, or undefined when it can. */
export function notAtExec(text: string): string | undefined {
  const words = text.split(' ');
  const first = words[0] ?? '';
  if (first === '') return 'it names no command';
  if (words.some((w) => w !== '' && [...w].every((c) => OPERATOR_CHARS.includes(c)))) return 'it uses shell operators';
  if (ASSIGNMENT_RE.test(first)) return 'it starts with a variable assignment';
  if (BUILTINS.has(first)) return `${first} is a shell builtin, never executed as a program`;
  return undefined;
}
