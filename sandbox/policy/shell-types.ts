// Shapes shared by the shell splitter (shell-split.ts), the wrapper unwrapper
// (shell-unwrap.ts) and the Bash rule matcher (tool-bash.ts).

/** One shell word after quote removal. */
export interface ShellWord {
  /**
   * The word as the shell would see it after quote removal and escape
   * processing. Expansions it cannot know (`$X`, `$(...)`, backticks) stay in
   * their source spelling, e.g. `$HOME/bin`.
   */
  readonly value: string;
  /** The word exactly as written in the source. */
  readonly raw: string;
  /**
   * True when the word's final text is only known at run time: parameter,
   * command or arithmetic expansion, or an unquoted glob / brace expansion
   * (`g?t`, `{git,}` can expand to `git`).
   */
  readonly dynamic: boolean;
  /** True when any part of the word was quoted or escaped. */
  readonly quoted: boolean;
}

/** One simple command: leading assignments, redirections and reserved words removed. */
export interface ShellCommand {
  readonly words: readonly ShellWord[];
  /** `words` values joined by single spaces: the text rules are matched against. */
  readonly text: string;
  /**
   * Leading `NAME=value` assignments, dropped from `words` and `text`. Deny
   * rules ignore them; allow rules must match them too, since
   * `LD_PRELOAD=x npm test` is not `npm test`.
   */
  readonly assignments: readonly string[];
  /**
   * True when the command runs code this parser cannot see: `bash -c "$X"`,
   * `eval "$X"`, a shell reading a script from a pipe, `xargs sh -c ...`.
   */
  readonly opaque: boolean;
}
