// `personae`: the headless CLI. Each command loads only what it needs, so a
// cold `personae run` stays fast.
import { Command, CommanderError } from 'commander';
import { fail, UsageError } from './cli/output.js';

const program = new Command();
program
  .name('personae')
  .description('Run CLI coding agents as accountable personas: sandboxed, intercepted, audited, stoppable.')
  .version('0.1.0')
  .showHelpAfterError(false)
  .exitOverride();

program
  .command('run')
  .description('run a command as PERSONA inside its sandbox')
  .argument('<persona>', 'persona name (a file in $PERSONAE_HOME/personas)')
  .argument('[command...]', "the command to run, after -- (none: the persona's default, an interactive shell for a shell persona)")
  .option('-w, --workspace <dir>', 'the workspace ({workspace} in the persona file)', process.cwd())
  .option('--on-behalf-of <who>', 'the human this persona acts for (default: your user name)')
  .option('--no-tty', 'never allocate a PTY, even on a terminal')
  .option('--worktree', 'run in a new git worktree of the workspace\'s repository, on a branch personae/PERSONA/ID')
  .option('--base <ref>', 'with --worktree: the commit the branch starts from (default HEAD)')
  .option('--review <session>', "review another session's worktree: it becomes the workspace, read-only")
  .action(async (persona: string, command: string[], opts: { workspace: string; onBehalfOf?: string; tty: boolean; worktree?: boolean; base?: string; review?: string }) => {
    const { runCommand } = await import('./cli/run.js');
    // Exit as soon as the session has ended and its log is closed: a library timer left
    // behind (chokidar re-reads a changed directory at most once a second, and closing it
    // does not cancel that) would otherwise hold the process for up to a second.
    process.exit(await runCommand(persona, command, opts));
  });

program
  .command('stop')
  .description('stop sessions: SIGTERM, SIGKILL after a grace, verified')
  .argument('[session]', 'session id (a unique prefix is enough)')
  .option('--persona <name>', 'stop every session of this persona')
  .option('--all', 'stop every running session')
  .action(async (session: string | undefined, opts: { persona?: string; all?: boolean }) => {
    const { stopCommand } = await import('./cli/sessions.js');
    process.exitCode = await stopCommand(session, opts);
  });

program
  .command('diff')
  .description("print a worktree session's change against its base (committed and uncommitted)")
  .argument('<session>', 'session id (a unique prefix is enough)')
  .option('--stat', 'commits and one line per file instead of the patch')
  .action(async (session: string, opts: { stat?: boolean }) => {
    const { diffCommand } = await import('./cli/worktrees.js');
    process.exitCode = await diffCommand(session, opts);
  });

program
  .command('apply')
  .description("keep a worktree session's change: bring it into the checkout it came from (fast-forward or merge), then remove its worktree and branch")
  .argument('<session>', 'session id (a unique prefix is enough)')
  .option('--squash', 'as one commit (authored by the persona) instead')
  .action(async (session: string, opts: { squash?: boolean }) => {
    const { applyCommand } = await import('./cli/worktrees.js');
    process.exitCode = await applyCommand(session, opts);
  });

program
  .command('discard')
  .description("throw a worktree session's change away: remove its worktree and branch")
  .argument('<session>', 'session id (a unique prefix is enough)')
  .action(async (session: string) => {
    const { discardCommand } = await import('./cli/worktrees.js');
    process.exitCode = await discardCommand(session);
  });

program
  .command('ps')
  .description('list running sessions, and worktree sessions waiting for apply or discard')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const { psCommand } = await import('./cli/sessions.js');
    process.exitCode = await psCommand(opts);
  });

program
  .command('audit')
  .description('print audit events')
  .option('--session <id>', 'only this session (a unique prefix is enough)')
  .option('--persona <name>', 'only this persona')
  .option('--kind <kind>', 'only this kind (e.g. exec, net.connect, session.*)')
  .option('--decision <d>', 'only allow, deny or ask')
  .option('--since <time>', 'ISO time, date, or relative (10m, 2h, 1d, yesterday)')
  .option('--limit <n>', 'at most this many events', '1000')
  .option('--format <f>', 'table, jsonl or ocsf (OCSF 1.3 JSONL, for SIEMs)', 'table')
  .action(async (opts: Record<string, string | undefined>) => {
    const { auditCommand } = await import('./cli/audit.js');
    process.exitCode = await auditCommand(opts);
  });

program
  .command('export')
  .description('ship the audit log over OTLP (logs and traces) to OTEL_EXPORTER_OTLP_ENDPOINT, from a durable cursor')
  .option('--follow', 'keep shipping new events until stopped')
  .option('--status', 'say how far behind the export is, and why')
  .option('--json', 'with --status: print JSON')
  .option('--batch <n>', 'events per request (default 1000)')
  .action(async (opts: { follow?: boolean; status?: boolean; json?: boolean; batch?: string }) => {
    const { exportCommand } = await import('./cli/export.js');
    process.exitCode = await exportCommand(opts);
  });

program
  .command('approvals')
  .description('list tool calls waiting for a human decision')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const { approvalsCommand } = await import('./cli/approvals.js');
    process.exitCode = await approvalsCommand(opts);
  });
for (const [name, decision] of [['approve', 'allow'], ['deny', 'deny']] as const) {
  program
    .command(name)
    .argument('<id>', 'approval id from personae approvals')
    .description(decision === 'allow' ? 'allow a waiting tool call' : 'deny a waiting tool call')
    .action(async (id: string) => {
      const { answerCommand } = await import('./cli/approvals.js');
      process.exitCode = await answerCommand(id, decision);
    });
}

const secret = program.command('secret').description("manage personas' credentials (values are never printed)");
secret
  .command('set')
  .argument('<name>')
  .description('store a secret read from standard input')
  .action(async (name: string) => {
    const { secretSet } = await import('./cli/secrets.js');
    process.exitCode = await secretSet(name);
  });
secret
  .command('list')
  .description('list secret names')
  .action(async () => {
    const { secretList } = await import('./cli/secrets.js');
    process.exitCode = secretList();
  });
secret
  .command('rm')
  .argument('<name>')
  .description('remove a secret')
  .action(async (name: string) => {
    const { secretRm } = await import('./cli/secrets.js');
    process.exitCode = secretRm(name);
  });

const persona = program.command('persona').description('list, check, install, learn, compare, suspend and resume personas');
persona
  .command('list')
  .description('list personas')
  .action(async () => {
    const { personaList } = await import('./cli/personas.js');
    process.exitCode = personaList();
  });
persona
  .command('validate')
  .argument('<file...>')
  .description('check persona files')
  .action(async (files: string[]) => {
    const { personaValidate } = await import('./cli/personas.js');
    process.exitCode = personaValidate(files);
  });
persona
  .command('install')
  .argument('<dir-file-or-preset>')
  .description('install persona files (a folder of them, one file, or a preset: reviewer, builder, overnight, shell) into $PERSONAE_HOME/personas, after saying what each grants; refuses files holding secrets')
  .option('--force', 'replace existing personas (the changes are listed)')
  .option('--dry-run', 'only say what each grants and what would change')
  .action(async (target: string, opts: { force?: boolean; dryRun?: boolean }) => {
    const { personaInstall } = await import('./cli/persona-share.js');
    process.exitCode = personaInstall(target, opts);
  });
persona
  .command('suggest')
  .argument('<session...>', 'recorded sessions (ids or unique prefixes)')
  .description('print the narrowest persona file that would have let these sessions do what they did, and what it left out on purpose')
  .option('--name <name>', 'name of the suggested persona (default: the one the sessions ran as)')
  .option('--min-sessions <n>', 'leave out destinations reached in fewer sessions (default 2 with several sessions, else 1)')
  .action(async (sessions: string[], opts: { name?: string; minSessions?: string }) => {
    const { personaSuggest } = await import('./cli/persona-share.js');
    process.exitCode = await personaSuggest(sessions, opts);
  });
persona
  .command('diff')
  .argument('<name>', 'an installed persona')
  .argument('<file>', 'a persona file')
  .description('show what FILE would change in the installed persona NAME, grant by grant')
  .action(async (name: string, file: string) => {
    const { personaDiff } = await import('./cli/persona-share.js');
    process.exitCode = personaDiff(name, file);
  });
persona
  .command('suspend')
  .argument('<name>')
  .description("stop the persona's sessions and refuse new runs until resumed")
  .action(async (name: string) => {
    const { personaSuspend } = await import('./cli/sessions.js');
    process.exitCode = await personaSuspend(name);
  });
persona
  .command('resume')
  .argument('<name>')
  .description('allow runs again')
  .action(async (name: string) => {
    const { personaResume } = await import('./cli/sessions.js');
    process.exitCode = personaResume(name);
  });
persona
  .command('schema')
  .description('print the JSON Schema of persona files')
  .action(async () => {
    const { personaJsonSchema } = await import('../personas/json-schema.js');
    process.stdout.write(`${JSON.stringify(personaJsonSchema(), null, 2)}\n`);
  });

program
  .command('serve')
  .description('start the backend: control API and live event stream on 127.0.0.1, and the UI for a browser')
  .option('--port <n>', 'TCP port (default: a random free port)', '0')
  .option('--open', 'print the one-time browser URL (default)', true)
  .action(async (opts: { port: string }) => {
    const { serveCommand } = await import('./cli/app.js');
    process.exitCode = await serveCommand(opts);
  });

program
  .command('app')
  .description('open the desktop app (Electron), or the same UI in a browser when Electron is not available')
  .action(async () => {
    const { appCommand } = await import('./cli/app.js');
    process.exitCode = await appCommand();
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof UsageError) {
    process.exitCode = fail(err.message, 2);
  } else {
    process.exitCode = fail(err instanceof Error ? err.message : String(err), 1);
  }
});
