// The live parts of the backend with real sandboxed sessions: the event
// stream (including sessions another process runs), the terminal, approvals,
// and shutdown stopping the backend's own sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, PendingApproval, SessionInfo, StreamServerMessage, TerminalServerMessage } from '../../main/api/contract.js';
import { alive, freshWorkspace, openSocket, processesWithArgv, raw, startApi, until, type ApiEnv } from './api-harness.js';
import { auditDbPath } from '../../personas/paths.js';
import { openAuditStore } from '../../sandbox/audit/store.js';
import { startRun } from './harness.js';

const HOOK_PAYLOAD = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'git push origin main' }, tool_use_id: 't1' });
/** A scripted agent asking, as Claude Code's hook would, whether it may `git push`. */
const ASKING_AGENT = `printf '%s' '${HOOK_PAYLOAD}' | /run/personae/hooks/personae-hook PreToolUse >/dev/null 2>&1; echo "hook-exit:$?"; sleep 30`;

describe('live: stream, terminal, approvals, shutdown', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApi();
    env.h.writePersona({ name: 'shell', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
    env.h.writePersona({
      name: 'asker', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] },
      tools: { ask: ['Bash(git push:*)'] }, limits: { approval_timeout: '60s' },
    });
  });
  afterAll(async () => env.close());

  it('a session started by `personae run` in another process shows up live, events labelled with its persona', async () => {
    const stream = await openSocket<StreamServerMessage>(env.b, '/api/stream');
    await stream.next((m) => m.type === 'hello');
    stream.ws.send(JSON.stringify({ type: 'subscribe', id: 7, filter: { persona: 'shell' }, tail: 10 }));
    await stream.next((m) => m.type === 'snapshot' && m.subscription === 7);
    const run = await startRun(env.h, ['shell', '--', 'sh', '-c', 'echo from-cli > cli.txt; curl -s -m 2 http://denied.example/ || true; sleep 1']);
    const started = await stream.next((m) => m.type === 'session' && m.session.id === run.session);
    expect(started.type === 'session' && started.session.terminal).toBe(false);
    const denied = await stream.next((m) => m.type === 'events' && m.events.some((e) => e.session === run.session && e.kind === 'net.connect'));
    const ev = denied.type === 'events' ? denied.events.find((e) => e.kind === 'net.connect') : undefined;
    expect(ev).toMatchObject({ persona: 'shell', decision: 'deny', target: 'denied.example:80' });
    await stream.next((m) => m.type === 'session' && m.session.id === run.session && m.session.state === 'ended', 20_000);
    expect((await run.done).code).toBe(0);
    // every streamed event matched the subscription, none twice
    const streamed = stream.all.flatMap((m) => (m.type === 'events' ? m.events : []));
    expect(streamed.every((e: ApiEvent) => e.persona === 'shell')).toBe(true);
    expect(new Set(streamed.map((e) => e.id)).size).toBe(streamed.length);
    stream.ws.close();
  });

  it('the terminal: output batched to the browser, input and resize back', async () => {
    const r = await raw(env.b, '/api/sessions', {
      body: { persona: 'shell', workspace: freshWorkspace(env.h, 'term'), command: ['sh', '-c', 'echo ready; read line; echo "got:$line"; stty size; sleep 30'], cols: 90, rows: 20 },
    });
    expect(r.status).toBe(201);
    const s = r.json<SessionInfo>();
    const term = await openSocket<TerminalServerMessage>(env.b, `/api/sessions/${s.id}/terminal`);
    const text = (): string => term.all.map((m) => (m.type === 'replay' || m.type === 'output' ? m.data : '')).join('');
    await until(() => (text().includes('ready') ? true : undefined), 10_000, 'the prompt');
    term.ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    await new Promise((res) => setTimeout(res, 100));
    term.ws.send(JSON.stringify({ type: 'input', data: 'hello\r' }));
    await until(() => (text().includes('got:hello') ? true : undefined), 10_000, 'the echo');
    await until(() => (text().includes('40 120') ? true : undefined), 10_000, 'the new size');
    // a malformed message closes this socket, not the session
    const closed = new Promise<number>((res) => term.ws.once('close', (code) => res(code)));
    term.ws.send(JSON.stringify({ type: 'input', data: 5 }));
    expect(await closed).toBe(1007);
    const again = await openSocket<TerminalServerMessage>(env.b, `/api/sessions/${s.id}/terminal`);
    const replay = await again.next((m) => m.type === 'replay');
    expect(replay.type === 'replay' && replay.data).toContain('got:hello');
    expect((await raw(env.b, `/api/sessions/${s.id}/stop`, { method: 'POST' })).json()).toMatchObject({ verified: true });
    await again.next((m) => m.type === 'exit');
    again.ws.close();
  });

  it('approvals: an ask waits for a human, the answer reaches the agent', async () => {
    const stream = await openSocket<StreamServerMessage>(env.b, '/api/stream');
    const r = await raw(env.b, '/api/sessions', { body: { persona: 'asker', workspace: freshWorkspace(env.h, 'ask'), command: ['sh', '-c', ASKING_AGENT] } });
    expect(r.status).toBe(201);
    const s = r.json<SessionInfo>();
    const msg = await stream.next((m) => m.type === 'approvals' && m.approvals.some((a) => a.session === s.id));
    const pending = msg.type === 'approvals' ? (msg.approvals.find((a) => a.session === s.id) as PendingApproval) : undefined;
    expect(pending).toMatchObject({ persona: 'asker', tool: 'Bash', target: 'git push origin main' });
    expect(pending?.reason).toMatch(/git push/);
    const listed = (await raw(env.b, '/api/approvals')).json<{ approvals: PendingApproval[] }>().approvals;
    expect(listed.map((a) => a.id)).toContain(pending?.id);
    expect((await raw(env.b, '/api/approvals/ffffffff', { body: { decision: 'allow' } })).status).toBe(404);
    const answered = await raw(env.b, `/api/approvals/${pending?.id ?? ''}`, { body: { decision: 'allow' } });
    expect(answered.status).toBe(200);
    await stream.next((m) => m.type === 'approvals' && !m.approvals.some((a) => a.id === pending?.id));
    const approval = await until(async () => {
      const events = (await raw(env.b, `/api/events?session=${s.id}&kind=approval`)).json<{ events: ApiEvent[] }>().events;
      return events[0];
    }, 10_000, 'the approval event');
    expect(approval).toMatchObject({ decision: 'allow', tool: 'Bash', reason: 'approved by tester' });
    await raw(env.b, `/api/sessions/${s.id}/stop`, { method: 'POST' });
    stream.ws.close();
  });

  it('approvals of a session in another process (`personae run`) are answered through its control socket', async () => {
    const run = await startRun(env.h, ['asker', '--workspace', freshWorkspace(env.h, 'ask-cli'), '--', 'sh', '-c', ASKING_AGENT]);
    const pending = await until(async () => (await raw(env.b, '/api/approvals')).json<{ approvals: PendingApproval[] }>().approvals.find((a) => a.session === run.session), 15_000, 'the pending approval');
    expect((await raw(env.b, `/api/approvals/${pending.id}`, { body: { decision: 'deny' } })).status).toBe(200);
    const approval = await until(async () => (await raw(env.b, `/api/events?session=${run.session}&kind=approval`)).json<{ events: ApiEvent[] }>().events[0], 10_000, 'the approval event');
    expect(approval).toMatchObject({ decision: 'deny', reason: 'denied by tester' });
    const stop = (await raw(env.b, `/api/sessions/${run.session}/stop`, { method: 'POST' })).json();
    expect(stop).toMatchObject({ verified: true });
    await run.done;
  });

  it('closing the backend stops the sessions it started (never orphans)', async () => {
    const other = await startApi();
    other.h.writePersona({ name: 'shell', agent: 'shell', filesystem: { write: ['{workspace}'] } });
    const s = (await raw(other.b, '/api/sessions', { body: { persona: 'shell', workspace: other.h.workspace, command: ['sh', '-c', 'sleep 3017 & sleep 3017'] } })).json<SessionInfo>();
    const pid = s.sandbox_pid as number;
    await until(() => (processesWithArgv(['sleep', '3017']).length === 2 ? true : undefined), 10_000, 'both sleeps');
    await other.b.close();
    expect(alive(pid)).toBe(false);
    expect(processesWithArgv(['sleep', '3017'])).toEqual([]);
    const store = openAuditStore(auditDbPath(other.h.home), { readonly: true });
    expect(store.getSession(s.id)).toMatchObject({ end_reason: 'stopped' });
    store.close();
    other.h.cleanup();
  });
});
