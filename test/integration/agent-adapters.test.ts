// The codex and gemini adapters as data: generated configuration, command
// rewriting and refusals, and the broker's translation of each agent's hook
// protocol (payload in, decision out). No CLI runs here; see
// agent-codex.test.ts and agent-gemini.test.ts for the real ones.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PersonaSchema, type AgentKind } from '../../personas/schema.js';
import type { EventInput } from '../../sandbox/audit/event.js';
import { compileToolRules } from '../../sandbox/policy/tool-rules.js';
import { Approvals } from '../../sandbox/intercept/approvals.js';
import { codexCommand, codexConfigToml, codexExecPolicy, codexHooks, codexRuleCalls, patchFiles } from '../../sandbox/intercept/codex.js';
import { geminiCommand, geminiReply, geminiRuleCalls, geminiSettings, geminiWorkspaceProblem } from '../../sandbox/intercept/gemini.js';
import { HookHandler } from '../../sandbox/intercept/hook-handler.js';

const WS = '/tmp/agent-adapters-ws';
const persona = (agent: AgentKind, deny: string[] = []): ReturnType<typeof PersonaSchema.parse> =>
  PersonaSchema.parse({ version: 1, name: 'p', display_name: 'P', owner: 'o', purpose: 'tests', agent, execution_mode: 'autonomous', tools: { deny } });

function handler(agent: AgentKind, deny: string[]): { h: HookHandler; events: EventInput[] } {
  const p = persona(agent, deny);
  const events: EventInput[] = [];
  const h = new HookHandler({
    persona: p,
    emit: (e) => events.push(e),
    rules: compileToolRules(p.tools, { workspace: WS, home: '/tmp/agent-adapters-home' }),
    approvals: new Approvals('s', 'p', 1000),
    limit: () => undefined,
    stop: () => undefined,
    onLive: () => undefined,
  });
  return { h, events };
}

describe('codex adapter', () => {
  it('generates a config that never prompts, keeps hooks on and plugins off', () => {
    const toml = codexConfigToml();
    expect(toml).toContain('approval_policy = "never"');
    expect(toml).toContain('sandbox_mode = "danger-full-access"');
    expect(toml).toMatch(/\[features\]\nhooks = true\nplugins = false/);
    expect(toml).not.toContain('model_provider');
    const fake = codexConfigToml({ baseUrl: 'http://model.test/v1' });
    expect(fake).toContain('model_provider = "personae"');
    expect(fake).toContain('base_url = "http://model.test/v1"');
    expect(fake).toContain('supports_websockets = false');
    expect(fake).toContain('env_key = "OPENAI_API_KEY"');
  });

  it('registers the personae hook for every tool and the check-in', () => {
    const hooks = codexHooks(310) as { hooks: Record<string, Array<{ matcher?: string; hooks: Array<{ command: string; timeout: number }> }>> };
    expect(Object.keys(hooks.hooks)).toEqual(['SessionStart', 'PreToolUse', 'PostToolUse']);
    expect(hooks.hooks.PreToolUse?.[0]?.matcher).toBe('*');
    expect(hooks.hooks.PreToolUse?.[0]?.hooks[0]).toEqual({ type: 'command', command: '/run/personae/hooks/personae-hook PreToolUse', timeout: 310 });
  });

  it('turns Bash prefix deny rules into execpolicy forbidden rules, and only those', () => {
    const rules = codexExecPolicy(persona('codex', ['Bash(git push:*)', 'Bash(npm publish *)', 'Bash(rm -rf /)', 'Bash(curl $(x):*)', 'Write(/x/**)']));
    expect(rules).toContain('prefix_rule(pattern = ["git", "push"], decision = "forbidden", justification = "personae: tools.deny: Bash(git push:*)")');
    expect(rules).toContain('pattern = ["npm", "publish"]');
    expect(rules).not.toContain('rm');
    expect(rules).not.toContain('curl');
  });

  it('adds the hook-trust flag and refuses what would weaken interception', () => {
    expect(codexCommand(['codex', 'exec', 'do it'])).toEqual(['codex', '--dangerously-bypass-hook-trust', 'exec', 'do it']);
    expect(codexCommand(['codex', '-m', 'gpt-5', '-c', 'model_reasoning_effort="low"', 'exec', 'login'])[1]).toBe('--dangerously-bypass-hook-trust');
    for (const bad of [
      ['exec', '--dangerously-bypass-approvals-and-sandbox', 'x'],
      ['-a', 'on-request'],
      ['exec', '--sandbox=workspace-write', 'x'],
      ['exec', '-s', 'read-only', 'x'],
      ['exec', '-c', 'approval_policy="on-request"', 'x'],
      ['--config', 'features.hooks=false', 'exec', 'x'],
      ['-csandbox_mode="read-only"', 'exec', 'x'],
      ['-c', 'hooks.state."x".enabled=false'],
      ['exec', '--profile', 'mine', 'x'],
      ['exec', '--ignore-user-config', 'x'],
      ['--disable', 'hooks', 'exec', 'x'],
      ['login'],
      ['-m', 'o3', 'mcp', 'add', 'x'],
      ['app-server'],
    ]) {
      expect(() => codexCommand(['codex', ...bad]), bad.join(' ')).toThrow(/personae|not an agent session/);
    }
    expect(() => codexCommand(['claude', '-p', 'x'])).toThrow('must start with codex');
  });

  it('judges apply_patch per file and view_image as a Read', () => {
    const patch = '*** Begin Patch\n*** Add File: a/new.txt\n+x\n*** Update File: /w/b.txt\n@@\n-y\n+z\n*** Delete File: c.txt\n*** End Patch\n';
    expect(patchFiles(patch)).toEqual([
      { tool: 'Write', input: { file_path: 'a/new.txt' } },
      { tool: 'Edit', input: { file_path: '/w/b.txt' } },
      { tool: 'Edit', input: { file_path: 'c.txt' } },
    ]);
    expect(codexRuleCalls('apply_patch', { command: 'garbage' })).toEqual([{ tool: 'apply_patch', input: { command: 'garbage' } }]);
    expect(codexRuleCalls('view_image', { path: '/x.png' })).toEqual([{ tool: 'Read', input: { file_path: '/x.png' } }]);
    expect(codexRuleCalls('Bash', { command: 'ls' })).toEqual([{ tool: 'Bash', input: { command: 'ls' } }]);
  });

  it('decides Codex hook calls in Claude Code protocol, a patch by its strictest file', async () => {
    const { h, events } = handler('codex', ['Write(/secret/**)']);
    const payload = (command: string): string => JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'apply_patch', tool_input: { command }, tool_use_id: 'exec-1', cwd: WS });
    const ok = await h.handle('PreToolUse', payload('*** Begin Patch\n*** Add File: ok.txt\n+x\n*** End Patch\n'));
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.body)).toMatchObject({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow' } });
    const no = await h.handle('PreToolUse', payload('*** Begin Patch\n*** Add File: ok.txt\n+x\n*** Add File: secret/k.txt\n+x\n*** End Patch\n'));
    expect(no.code).toBe(2);
    const [json, text] = no.body.split('\t');
    expect(JSON.parse(json ?? '')).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
    expect(text).toContain('tools.deny: Write(/secret/**)');
    expect(events.filter((e) => e.kind === 'tool.call').map((e) => [e.tool, e.decision])).toEqual([
      ['apply_patch', 'allow'],
      ['apply_patch', 'deny'],
    ]);
  });
});

describe('gemini adapter', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('generates settings with every hook named personae, API-key auth and no side traffic', () => {
    const s = geminiSettings(310) as { hooks: Record<string, Array<{ matcher?: string; hooks: Array<{ name: string; command: string; timeout: number }> }>>; [k: string]: unknown };
    expect(Object.keys(s.hooks)).toEqual(['SessionStart', 'BeforeTool', 'AfterTool']);
    for (const list of Object.values(s.hooks)) expect(list[0]?.hooks[0]?.name).toBe('personae');
    expect(s.hooks.BeforeTool?.[0]?.hooks[0]).toMatchObject({ command: '/run/personae/hooks/personae-hook BeforeTool', timeout: 310_000 });
    expect(s.hooks.BeforeTool?.[0]?.matcher).toBe('.*');
    expect(s).toMatchObject({
      security: { auth: { selectedType: 'gemini-api-key' } },
      hooksConfig: { enabled: true },
      general: { enableAutoUpdate: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    });
  });

  it('adds yolo approval and refuses what would weaken interception', () => {
    expect(geminiCommand(['gemini', '-p', 'do it'])).toEqual(['gemini', '--approval-mode', 'yolo', '-p', 'do it']);
    expect(geminiCommand(['gemini', '-m', 'mcp', '-p', 'hooks'])[0]).toBe('gemini');
    for (const bad of [['--yolo'], ['-y', '-p', 'x'], ['--approval-mode=default'], ['--sandbox'], ['-e', 'none'], ['--admin-policy', 'p.toml'], ['mcp', 'add', 'x'], ['hooks', 'list'], ['extensions', 'install', 'x']]) {
      expect(() => geminiCommand(['gemini', ...bad]), bad.join(' ')).toThrow(/personae|manages Gemini CLI/);
    }
    expect(() => geminiCommand(['codex', 'exec'])).toThrow('must start with gemini');
  });

  it('maps Gemini tools onto the rule vocabulary', () => {
    expect(geminiRuleCalls('run_shell_command', { command: 'ls', dir_path: '/w/sub' })).toEqual([{ tool: 'Bash', input: { command: 'ls' }, cwd: '/w/sub' }]);
    expect(geminiRuleCalls('write_file', { file_path: '/w/a', content: 'x' })).toEqual([{ tool: 'Write', input: { file_path: '/w/a', content: 'x' } }]);
    expect(geminiRuleCalls('replace', { file_path: '/w/a', old_string: 'x', new_string: 'y' })[0]?.tool).toBe('Edit');
    expect(geminiRuleCalls('read_file', { file_path: '/w/a' })).toEqual([{ tool: 'Read', input: { file_path: '/w/a' } }]);
    expect(geminiRuleCalls('list_directory', { dir_path: '/w' })).toEqual([{ tool: 'LS', input: { path: '/w' } }]);
    expect(geminiRuleCalls('web_fetch', { prompt: 'compare https://a.test/x and http://b.test/y.' }).map((c) => c.input.url)).toEqual(['https://a.test/x', 'http://b.test/y.']);
    expect(geminiRuleCalls('web_fetch', { prompt: 'no url' })).toEqual([{ tool: 'WebFetch', input: { url: '', prompt: 'no url' } }]);
    expect(geminiRuleCalls('google_web_search', { query: 'q' })).toEqual([{ tool: 'WebSearch', input: { query: 'q' } }]);
    expect(geminiRuleCalls('mcp_gh_create_issue', { title: 't' }, { mcp_context: { server_name: 'gh', tool_name: 'create_issue' } })).toEqual([
      { tool: 'mcp__gh__create_issue', input: { title: 't' } },
    ]);
    expect(geminiRuleCalls('write_todos', { todos: [] })).toEqual([{ tool: 'write_todos', input: { todos: [] } }]);
  });

  it("answers in Gemini's protocol: decision JSON, and exit 2 with the reason for a deny", () => {
    expect(geminiReply('allow', 'ok')).toEqual({ code: 0, body: '{"decision":"allow","reason":"ok"}' });
    expect(geminiReply('deny', 'no')).toEqual({ code: 2, body: '{"decision":"deny","reason":"no"}\tno' });
  });

  it('decides BeforeTool calls and flags an AfterTool whose input was rewritten', async () => {
    const { h, events } = handler('gemini', ['Bash(git push:*)', 'WebFetch(domain:evil.test)']);
    const before = (tool: string, input: Record<string, unknown>): string => JSON.stringify({ hook_event_name: 'BeforeTool', session_id: 'g', cwd: WS, tool_name: tool, tool_input: input });
    const after = (tool: string, input: Record<string, unknown>): string => JSON.stringify({ hook_event_name: 'AfterTool', cwd: WS, tool_name: tool, tool_input: input, tool_response: { llmContent: 'ok' } });
    const ok = await h.handle('BeforeTool', before('run_shell_command', { command: 'echo hi' }));
    expect(ok).toEqual({ code: 0, body: '{"decision":"allow","reason":"personae: execution_mode: autonomous"}' });
    const no = await h.handle('BeforeTool', before('run_shell_command', { command: 'git push origin main' }));
    expect(no.code).toBe(2);
    expect(JSON.parse(no.body.split('\t')[0] ?? '')).toMatchObject({ decision: 'deny' });
    expect(no.body).toContain('tools.deny: Bash(git push:*)');
    const web = await h.handle('BeforeTool', before('web_fetch', { prompt: 'read https://ok.test/a and https://evil.test/b' }));
    expect(web.body).toContain('tools.deny: WebFetch(domain:evil.test)');
    expect((await h.handle('AfterTool', after('run_shell_command', { command: 'echo hi' }))).code).toBe(0);
    expect(events.filter((e) => e.kind === 'bypass')).toEqual([]);
    // Allowed `echo hi` once; a second AfterTool of it, or of anything else, ran without a decision.
    await h.handle('AfterTool', after('run_shell_command', { command: 'echo evil > x' }));
    expect(events.filter((e) => e.kind === 'bypass').map((e) => e.target)).toEqual(['echo evil > x']);
    expect((await h.handle('SessionStart', JSON.stringify({ session_id: 'g', hook_event_name: 'SessionStart' }))).code).toBe(0);
    expect(events.some((e) => e.kind === 'session.ready')).toBe(true);
  });

  it("refuses a workspace whose .gemini/settings.json configures hooks", () => {
    const ws = mkdtempSync(path.join(tmpdir(), 'personae-gemini-ws-'));
    dirs.push(ws);
    expect(geminiWorkspaceProblem(ws)).toBeUndefined();
    mkdirSync(path.join(ws, '.gemini'));
    const file = path.join(ws, '.gemini', 'settings.json');
    writeFileSync(file, '{ "ui": { "theme": "x" } }');
    expect(geminiWorkspaceProblem(ws)).toBeUndefined();
    writeFileSync(file, '{\n  // off\n  "hooksConfig": { "enabled": false }, /* and */ "hooks": {} }');
    expect(geminiWorkspaceProblem(ws)).toContain('configures hooks and hooksConfig');
    writeFileSync(file, '{ "url": "http://x//y", "hooks": {} }');
    expect(geminiWorkspaceProblem(ws)).toContain('configures hooks');
    writeFileSync(file, '{ not json');
    expect(geminiWorkspaceProblem(ws)).toContain('not valid JSON');
  });
});

describe('claude dialect is unchanged', () => {
  it('answers allow and deny with hookSpecificOutput', async () => {
    const { h } = handler('claude', ['Bash(git push:*)']);
    const call = (command: string): string => JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, tool_use_id: 't' });
    const ok = await h.handle('PreToolUse', call('ls'));
    expect(ok).toEqual({ code: 0, body: JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow', permissionDecisionReason: 'personae: execution_mode: autonomous' } }) });
    const no = await h.handle('PreToolUse', call('git push'));
    expect(no.code).toBe(2);
    expect(no.body).toMatch(/^\{"hookSpecificOutput":\{"hookEventName":"PreToolUse","permissionDecision":"deny".*\}\tpersonae denied this call \(tools\.deny: Bash\(git push:\*\)\)/);
    // Gemini's event names mean nothing to a claude persona.
    expect((await h.handle('BeforeTool', call('git push'))).code).toBe(0);
  });
});
