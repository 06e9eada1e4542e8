import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SHELL_INPUT, parseShellCommand, splitShellCommand } from '../../sandbox/policy/shell-split.js';
import type { ShellCommand } from '../../sandbox/policy/shell-split.js';

function parts(cmd: string): string[] {
  const r = splitShellCommand(cmd);
  if ('error' in r) throw new Error(`unexpected error for ${JSON.stringify(cmd)}: ${r.error}`);
  return r.parts;
}

function commands(cmd: string): ShellCommand[] {
  const r = parseShellCommand(cmd);
  if ('error' in r) throw new Error(`unexpected error for ${JSON.stringify(cmd)}: ${r.error}`);
  return r.commands;
}

describe('splitShellCommand: operators and grouping', () => {
  it.each<[string, string[]]>([
    ['git push', ['git push']],
    ['a && b', ['a', 'b']],
    ['a || b', ['a', 'b']],
    ['a; b;c', ['a', 'b', 'c']],
    ['a | b |& c', ['a', 'b', 'c']],
    ['a & b', ['a', 'b']],
    ['a\nb\n\nc', ['a', 'b', 'c']],
    ['a&&b||c', ['a', 'b', 'c']],
    ['(a; b) && c', ['a', 'b', 'c']],
    ['( (a) )', ['a']],
    ['{ a; b; }', ['a', 'b']],
    ['if a; then b; elif c; then d; else e; fi', ['a', 'b', 'c', 'd', 'e']],
    ['while a; do b; done', ['a', 'b']],
    ['until a; do b; done', ['a', 'b']],
    ['for f in x y; do echo $f; done', ['echo $f']],
    ['! a', ['a']],
    ['f() { git push; }; f', ['git push', 'f']],
    ['function g { ls; }', ['ls']],
    ['', []],
    ['   ', []],
    ['# only a comment', []],
    ['ls # comment && git push', ['ls']],
    ['ls\n# git push\npwd', ['ls', 'pwd']],
    ['echo a#b', ['echo a#b']],
    ['((i++)) && ls', ['ls']],
    ['[ -f x ] && echo yes', ['[ -f x ]', 'echo yes']],
    ['[[ -n $x ]] || ls', ['[[ -n $x ]]', 'ls']],
  ])('%j -> %j', (cmd, expected) => {
    expect(parts(cmd)).toEqual(expected);
  });
});

describe('splitShellCommand: substitutions keep the outer command and add the inner ones', () => {
  it.each<[string, string[]]>([
    ['echo $(git push)', ['echo $(git push)', 'git push']],
    ['echo `git push`', ['echo `git push`', 'git push']],
    ['echo "a $(rm -rf /) b"', ['echo a $(rm -rf /) b', 'rm -rf /']],
    ['echo "`id`"', ['echo `id`', 'id']],
    ['echo $(a $(b))', ['echo $(a $(b))', 'a $(b)', 'b']],
    ['x=$(git push)', ['git push']],
    ['x=$(a) y', ['y', 'a']],
    ['echo ${x:-$(git push)}', ['echo ${x:-$(git push)}', 'git push']],
    ['echo $((1 + $(id -u)))', ['echo $((1 + $(id -u)))', 'id -u']],
    ['diff <(ls a) >(cat)', ['diff <(ls a) >(cat)', 'ls a', 'cat']],
    ['echo ok > $(git push)', ['echo ok', 'git push']],
    ["echo '$(not run)'", ['echo $(not run)']],
    ['a=(1 $(id) 3) ls', ['ls', 'id']],
  ])('%j -> %j', (cmd, expected) => {
    expect(parts(cmd)).toEqual(expected);
  });
});

describe('splitShellCommand: normalisation', () => {
  it.each<[string, string[]]>([
    ['FOO=1 git push', ['git push']],
    ['FOO=1 BAR="a b" git push', ['git push']],
    ['git push > /dev/null 2>&1', ['git push']],
    ['>/dev/null git push', ['git push']],
    ['git push &>log', ['git push']],
    ['git push 2>&- <in', ['git push']],
    ['cmd {fd}>x', ['cmd']],
    ["g\\it 'push'", ['git push']],
    ['g""it pu"sh"', ['git push']],
    ["$'git' push", ['git push']],
    ["$'\\x67it' push", ['git push']],
    ["$'\\147it' push", ['git push']],
    ['git   \t push', ['git push']],
    ['git \\\n push', ['git push']],
    ['echo a\\\nb', ['echo ab']],
    ['"git" "push"', ['git push']],
    ['echo "a\\"b"', ['echo a"b']],
  ])('%j -> %j', (cmd, expected) => {
    expect(parts(cmd)).toEqual(expected);
  });

  it('keeps assignments aside for allow rules', () => {
    expect(commands('LD_PRELOAD=/x.so FOO=1 npm test')[0]?.assignments).toEqual(['LD_PRELOAD=/x.so', 'FOO=1']);
  });

  it('treats a quoted assignment-looking word as the command', () => {
    expect(parts('"FOO"=1 ls')).toEqual(['FOO=1 ls']);
  });
});

describe('splitShellCommand: code passed to another shell', () => {
  it.each<[string, string[]]>([
    ["bash -c 'git push; ls'", ['bash -c git push; ls', 'git push', 'ls']],
    ['sh -c "git push"', ['sh -c git push', 'git push']],
    ["bash -lc 'git push'", ['bash -lc git push', 'git push']],
    ["bash -e -o pipefail -c 'git push'", ['bash -e -o pipefail -c git push', 'git push']],
    ["sudo bash -c 'git push'", ['sudo bash -c git push', 'git push']],
    ["eval 'git push'", ['eval git push', 'git push']],
    ["eval git push", ['eval git push', 'git push']],
    ["su -c 'git push' root", ['su -c git push root', 'git push']],
    ["watch -n 1 'git push'", ['watch -n 1 git push', 'git push']],
    ["env -S 'git push'", ['env -S git push', 'git push']],
    ["bash <<< 'git push'", ['bash', 'git push']],
    ['bash <<EOF\ngit push\nEOF', ['bash', 'git push']],
    ['bash <<-EOF\n\tgit push\n\tEOF\nls', ['bash', 'git push', 'ls']],
    ["bash -c \"bash -c 'git push'\"", ["bash -c bash -c 'git push'", 'bash -c git push', 'git push']],
    ['bash script.sh', ['bash script.sh']],
  ])('%j -> %j', (cmd, expected) => {
    expect(parts(cmd)).toEqual(expected);
  });

  it.each([
    ['echo git push | bash', 'bash'],
    ['cat x | sh -s', 'sh -s'],
    ['sh -c "$X"', 'sh -c $X'],
    ['eval "$X"', 'eval $X'],
    ['bash <<< "$X"', 'bash'],
    ["xargs sh -c 'echo {}'", "xargs sh -c echo {}"],
  ])('%j marks %j as opaque', (cmd, part) => {
    expect(commands(cmd).find((c) => c.text === part)?.opaque).toBe(true);
  });

  it('does not mark a shell fed by a literal heredoc as opaque', () => {
    expect(commands('bash <<EOF\nls\nEOF').some((c) => c.opaque)).toBe(false);
  });
});

describe('splitShellCommand: heredocs', () => {
  it.each<[string, string[]]>([
    ['cat <<EOF\nhello $(whoami)\nEOF\necho done', ['cat', 'whoami', 'echo done']],
    ["cat <<'EOF'\nhello $(whoami)\nEOF\necho done", ['cat', 'echo done']],
    ['cat <<"EOF"\n$(x)\nEOF', ['cat']],
    ['cat <<EOF | wc -l\na\nEOF\nls', ['cat', 'wc -l', 'ls']],
    ['cat <<A <<B\n$(a)\nA\n$(b)\nB', ['cat', 'a', 'b']],
    ['cat <<EOF\nnever closed', ['cat']],
    ['x=$(cat <<EOF\n$(id)\nEOF\n)', ['cat', 'id']],
  ])('%j -> %j', (cmd, expected) => {
    expect(parts(cmd)).toEqual(expected);
  });
});

describe('splitShellCommand: dynamic words', () => {
  it.each([
    ['$CMD push', 0],
    ['${CMD} push', 0],
    ['git $SUB', 1],
    ['g?t push', 0],
    ['g*t push', 0],
    ['g[i]t push', 0],
    ['{git,} push', 0],
    ['{a..c} x', 0],
    ['"$X" y', 0],
    ['`x` y', 0],
  ])('%j has a dynamic word at %i', (cmd, at) => {
    const c = commands(cmd).find((x) => x.words.some((w) => w.dynamic));
    expect(c?.words.findIndex((w) => w.dynamic)).toBe(at);
  });

  it.each(["'g?t' push", '[ -f x ]', 'echo "*"', 'echo \\*', 'echo {}', 'echo a,b'])('%j has no dynamic word', (cmd) => {
    expect(commands(cmd).every((c) => c.words.every((w) => !w.dynamic))).toBe(true);
  });
});

describe('splitShellCommand: what it refuses', () => {
  it.each([
    ["echo 'unterminated", 'single quote'],
    ['echo "unterminated', 'double quote'],
    ['echo $(ls', 'missing ")"'],
    ['(ls', 'missing ")"'],
    ['ls)', 'unbalanced ")"'],
    ['echo `ls', 'backquote'],
    ['echo ${x', '"${"'],
    ['echo $((1+2)', '"(("'],
    ["echo $'x", "$'...'"],
    ['case x in a) ls;; esac', 'case'],
    ['echo ( x', 'unexpected "("'],
    ['cat <', 'no target'],
    ['a=(1 2', 'array'],
    ['echo \\$(not run)', 'unexpected "("'],
  ])('%j -> error mentioning %j', (cmd, fragment) => {
    const r = splitShellCommand(cmd);
    expect('error' in r && r.error).toContain(fragment);
  });

  it('refuses deep nesting instead of overflowing the stack', () => {
    const deep = `${'$('.repeat(5000)}ls${')'.repeat(5000)}`;
    expect(splitShellCommand(deep)).toEqual({ error: 'command is nested too deeply' });
    expect(splitShellCommand(`${'eval '.repeat(40)}ls`)).toEqual({ error: 'command is nested too deeply' });
    expect('parts' in splitShellCommand(`${'eval '.repeat(5)}ls`)).toBe(true);
  });

  it('refuses oversized input and NUL bytes', () => {
    expect('error' in splitShellCommand('a'.repeat(MAX_SHELL_INPUT + 1))).toBe(true);
    expect('error' in splitShellCommand('ls\0rm')).toBe(true);
    expect('error' in splitShellCommand(42 as unknown as string)).toBe(true);
  });

  it('splits a 1 MiB command quickly', () => {
    const big = 'echo "a b" && '.repeat(Math.floor(MAX_SHELL_INPUT / 16)) + 'ls';
    const t0 = Date.now();
    const r = splitShellCommand(big);
    expect('parts' in r && r.parts.length).toBeGreaterThan(60_000);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('splitShellCommand: properties', () => {
  const shellish = fc.string({
    unit: fc.constantFrom(...'ab $()`\'"\\;&|<>{}[]*?#=\n\t!-~12'.split('')),
    maxLength: 80,
  });

  it('never throws, and returns parts or an error', () => {
    fc.assert(
      fc.property(shellish, (cmd) => {
        const r = splitShellCommand(cmd);
        expect('parts' in r || 'error' in r).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  // Plain words only: shell reserved words (`if a && b` is not a list of simple commands) are tested above.
  const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'in', 'function', 'select', 'time', 'coproc']);
  const word = fc.stringMatching(/^[a-z][a-z0-9._-]{0,8}$/).filter((w) => !RESERVED.has(w));
  const simple = fc.array(word, { minLength: 1, maxLength: 4 }).map((ws) => ws.join(' '));
  const op = fc.constantFrom(' && ', ' || ', '; ', ' | ', '\n', ' & ');

  it('splits a list of simple commands into exactly those commands', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(simple, op), { minLength: 1, maxLength: 6 }), simple, (pairs, last) => {
        const cmd = pairs.map(([c, o]) => c + o).join('') + last;
        const expected = [...pairs.map(([c]) => c), last].filter((c) => !['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'while', 'until', 'case', 'esac', 'for', 'select', 'function'].includes(c.split(' ')[0] as string));
        const r = splitShellCommand(cmd);
        if ('error' in r) return; // only `case`-like words can make this fail
        expect(r.parts).toEqual(expected);
      }),
    );
  });
});
