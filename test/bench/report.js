// The ratios a run is judged by, and the generated section of BENCHMARKS.md.
import { round } from './lib.js';

const finite = (x) => typeof x === 'number' && Number.isFinite(x);

/** Ratios measured in this run: { key: { value, better: 'lower'|'higher', what, gate } }; gate: false = reported only. */
export function ratios(results) {
  const s = results.sections;
  const out = {};
  const put = (key, a, b, better, what, gate = true) => {
    if (finite(a) && finite(b) && b !== 0) out[key] = { value: a / b, better, what, gate };
  };
  const L = s.launch;
  put('launch.true.personae_vs_srt', L?.true?.personae?.median, L?.true?.srt?.median, 'lower', 'personae run / srt on `true` (median)');
  put('launch.http.personae_vs_srt', L?.http?.personae?.median, L?.http?.srt?.median, 'lower', 'personae run / srt on one HTTP request (median)');
  const P = s.proxy;
  put('proxy.small.personae_vs_direct', P?.small?.['personae connect']?.median, P?.small?.direct?.median, 'lower', 'small request via CONNECT / direct (median latency)');
  put('proxy.small.personae_vs_srt', P?.small?.['personae connect']?.median, P?.small?.['srt connect']?.median, 'lower', 'small request via CONNECT, personae / srt (median latency)');
  put('proxy.download.personae_vs_direct', P?.download?.personae?.maxMiBps, P?.download?.direct?.maxMiBps, 'higher', '100 MiB download throughput (best run), personae / direct (reported, not gated: direct loopback throughput swings 2× with the load on 2 cores)', false);
  put('proxy.download.personae_vs_srt', P?.download?.personae?.maxMiBps, P?.download?.srt?.maxMiBps, 'higher', '100 MiB download throughput (best run), personae / srt (reported, not gated: the srt tunnel cuts some downloads short and both swing with the load)', false);
  const T = s.tls;
  put('tls.small.terminated_vs_tunnel', T?.small?.['personae terminated']?.median, T?.small?.['personae tunnel']?.median, 'lower', 'HTTPS request terminated with a credential put in / plain CONNECT tunnel, personae (median latency)');
  put('tls.small.personae_vs_srt', T?.small?.['personae terminated']?.median, T?.small?.['srt terminated']?.median, 'lower', 'terminated HTTPS request with injection, personae / srt (median latency)');
  put('tls.download.terminated_vs_tunnel', T?.download?.['personae terminated']?.maxMiBps, T?.download?.['personae tunnel']?.maxMiBps, 'higher', '100 MiB HTTPS download, terminated / tunnel (best run; reported, not gated: both swing with the load on 2 cores)', false);
  const I = s.intercept;
  put('intercept.hook_vs_noop', I?.hook?.median, I?.noop?.median, 'lower', 'hook call / no-op hook (median)');
  const A = s.audit;
  put('audit.store_vs_bare_sqlite', A?.store?.max?.eventsPerSecond, A?.bare?.eventsPerSecond, 'higher', 'audit store events/s (reader attached) / bare better-sqlite3 inserts');
  const S = s.stop?.summary;
  put('stop.personae_vs_bare', S?.personaeCliMs, S?.bareEmptyMs, 'lower', '`personae stop` to verified / bare bwrap SIGKILL to empty namespace');
  const M = s.memory;
  put('memory.personae_vs_srt', M?.personae?.mainPerSessionMiB, M?.srt?.mainPerSessionMiB, 'lower', 'RSS of one supervising process: personae run / srt');
  const E = s.export;
  put('export.protobuf_vs_ingest_target', E?.['http/protobuf']?.eventsPerSecond, 50_000, 'higher', '`personae export` events/s (OTLP protobuf, logs + traces) / the store\'s 50,000 events/s ingest (reported, not gated)', false);
  put('export.json_vs_ingest_target', E?.['http/json']?.eventsPerSecond, 50_000, 'higher', '`personae export` events/s (OTLP JSON) / 50,000 events/s (reported, not gated)', false);
  put('export.supervisor_cpu_with_vs_without', E?.cpu?.exporting?.median, E?.cpu?.alone?.median, 'lower', 'CPU of a `personae run` tree writing 2,000 files with / without `export --follow` running (reported, not gated)', false);
  const R = s.rules;
  put('rules.exec.set_vs_none', R?.exec?.set?.median, R?.exec?.none?.median, 'lower', '1,000 fork+exec of /bin/true with 15 command rules (none naming it) / with none (median)');
  put('rules.exec.named_vs_none', R?.exec?.named?.median, R?.exec?.none?.median, 'lower', '1,000 fork+exec of /bin/true with a rule naming `true` too (every exec matched) / with none (median)');
  put('rules.reads.tripwires_vs_off', R?.reads?.on?.median, R?.reads?.off?.median, 'lower', 'read-heavy workload (20,000 files read, a find over /usr) with denied-read tripwires / without (median)');
  put('rules.probes.tripwires_vs_off', R?.probes?.on?.median, R?.probes?.off?.median, 'lower', '2,000 lookups of absent names in hidden home directories, tripwires / without (median; reported, not gated)', false);
  const W = s.worktree;
  put('worktree.launch_vs_plain', W?.worktree?.median, W?.plain?.median, 'lower', '`personae run --worktree -- true` / `personae run -- true` on a repository of 10,000 files (median)');
  return out;
}

const ms = (v, d = 0) => (finite(v) ? `${round(v, d)} ms` : '-');
const x = (v, d = 2) => (finite(v) ? `${round(v, d)}×` : '-');
const mark = (ok) => (ok === undefined ? '' : ok ? ' ✅' : ' ❌');

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderMarkdown(results, current, baseline) {
  const { machine: m, sections: s, params: p } = results;
  const out = [];
  out.push(`_Generated by \`${results.command}\` (via \`npm run bench\`) on ${results.date.slice(0, 10)} at ${results.date.slice(11, 16)} UTC; the run took ${results.seconds} s. Do not edit by hand: the next full run rewrites everything between the markers; a run with \`--only\` re-records its own sections, each marked._`);
  out.push('');
  out.push('### Machine');
  out.push('');
  out.push(table(['CPU', 'cores', 'RAM', 'kernel', 'Node', 'bwrap', 'srt', 'user', 'load avg at start'], [[m.cpu, m.cores, `${m.ramGiB} GiB`, m.kernel, m.node, m.bwrap ?? '-', m.srt ? `${m.srt}` : '-', m.user, m.loadavg.join(' ')]]));
  out.push('');
  out.push(results.srt.ok ? `srt ran in the same run (${results.srt.reason}).` : `**srt did not run**: ${results.srt.reason}. Its columns are empty and its ratios skipped.`);

  const L = s.launch;
  if (L) {
    out.push('', `### 1. Launch (${L.runs} interleaved cold runs each, ms)`, '');
    const cell = (r) => (r ? `${ms(r.median)} / ${ms(r.p90)}${r.failures ? ` (${r.failures} failed)` : ''}` : '-');
    const rows = ['true', 'http'].filter((w) => L[w]).map((w) => {
      const r = L[w];
      const overhead = r.personae?.median - r.bwrap?.median;
      const vsSrt = r.srt ? r.personae.median / r.srt.median : undefined;
      return [w === 'true' ? '`true`' : 'one HTTP request (curl)', cell(r.bwrap), cell(r.personae), cell(r.srt), `${x(vsSrt)}${finite(vsSrt) ? mark(vsSrt < 1 / 3) : ''}`, `${ms(overhead)}${w === 'true' ? mark(overhead < 100) : ''}`];
    });
    out.push(table(['command', 'bare bwrap median / p90', 'personae run median / p90', 'srt median / p90', 'personae ÷ srt (target < 0.33)', 'personae − bwrap (target < 100 ms on `true`)'], rows));
    out.push('');
    out.push('bare bwrap = personae\'s namespace and mount flags without its extras; for the HTTP command it shares the host network and connects directly (the floor). personae maps `bench.test` to the loopback server with `PERSONAE_HOSTS`; srt allows `127.0.0.1:PORT` (curl gets `--noproxy \'\'` everywhere, since srt puts 127.0.0.1 in `NO_PROXY`).');
    if (L.phases?.length) {
      out.push('', `Where one \`personae run -- true\` spends its time (PERSONAE_DEBUG=timing, ms since the CLI process started; ${ms(L.phasesTotal)} wall): ${L.phases.map((ph) => `${ph.phase} ${round(ph.at, 0)}`).join(' · ')}.`);
    }
  }

  const P = s.proxy;
  if (P?.small) {
    out.push('', `### 2. Proxy (loopback; ${P.requests} small requests per route, interleaved, each on a fresh connection)`, '');
    const d = P.small.direct.median;
    out.push(table(['route', 'median', 'p90', 'p99', '× direct (median)'], Object.entries(P.small).map(([name, r]) => [name, ms(r.median, 2), ms(r.p90, 2), ms(r.p99, 2), x(r.median / d)])));
    out.push('', 'forward = plain-HTTP proxying (`GET http://host/...`); connect = `CONNECT host:port` then the request inside the tunnel (what HTTPS clients do). personae: `startEgressProxy` from dist/ on 127.0.0.1, each attempt appended to an audit store as in a session; srt: `SandboxManager.initialize` (its HTTP+SOCKS mux), with its proxy auth token.');
    if (P.download) {
      const dd = P.download.direct?.maxMiBps;
      out.push('', `One 100 MiB download, ${p.downloads} times per route, interleaved:`, '');
      out.push(table(['route', 'MiB/s (median)', 'MiB/s (best)', '× direct (best)'], Object.entries(P.download).map(([name, r]) => [name === 'direct' ? 'direct' : `${name} (CONNECT tunnel)`, finite(r.medianMiBps) ? String(round(r.medianMiBps, 0)) : '-', finite(r.maxMiBps) ? String(round(r.maxMiBps, 0)) : '-', x(r.maxMiBps / dd)])));
    }
  }

  const T = s.tls;
  if (T?.small) {
    out.push('', `### 2b. TLS termination (loopback HTTPS; ${T.requests} small requests per route, interleaved, each on a fresh TCP and TLS connection)`, '');
    const d = T.small.direct.median;
    out.push(table(['route', 'median', 'p90', 'p99', '× direct (median)'], Object.entries(T.small).map(([name, r]) => [name, ms(r.median, 2), ms(r.p90, 2), ms(r.p99, 2), x(r.median / d)])));
    out.push('', `**Added by termination with a credential put in** (terminated − tunnel, medians): **${ms(T.addedMs, 2)}**${mark(T.addedMs < 2)} (target < 2 ms).`);
    if (T.download) {
      out.push('', `One 100 MiB HTTPS download, ${p.downloads} times per route, interleaved:`, '');
      out.push(table(['route', 'MiB/s (median)', 'MiB/s (best)'], Object.entries(T.download).map(([name, r]) => [name, finite(r.medianMiBps) ? String(round(r.medianMiBps, 0)) : '-', finite(r.maxMiBps) ? String(round(r.maxMiBps, 0)) : '-'])));
      const floor = T.download['node TLS relay']?.maxMiBps;
      out.push('', `Terminated ÷ tunnel (best runs): **${x(T.downloadRatio)}**${mark(T.downloadRatio >= 0.5)} (target ≥ 0.5); terminated ÷ bare Node TLS relay: ${x(T.download['personae terminated']?.maxMiBps / floor)}.`);
    }
    out.push('', 'tunnel = `CONNECT tunnel.test:443`, TLS end to end (every host without a bound credential or an HTTP rule); terminated = `CONNECT bench.test:443` answered with the session CA, `Authorization: Bearer <placeholder>` replaced by the real token (the upstream answers 401 otherwise), the response searched for the token; srt terminated = srt\'s `tlsTerminate` with the token as a masked `credentials.envVars` entry injected at 127.0.0.1, through its sentinel; node TLS relay = a process that answers CONNECT, terminates TLS and pipes the bytes into a TLS connection upstream, nothing else: the floor of any terminating proxy in Node. The proxy keeps upstream connections alive across the sandbox\'s connections (the upstream keeps them 5 s, as web servers do), so a terminated request skips the upstream handshake a tunnel pays; its download pays one more decryption and encryption of every byte, in the proxy\'s one thread.');
  }

  const I = s.intercept;
  if (I?.hook) {
    out.push('', `### 3. Interception (${I.samples} paired calls inside one personae sandbox)`, '');
    out.push(table(['', 'median', 'p90', 'p99'], [
      ['personae-hook PreToolUse (broker answers)', ms(I.hook.median, 2), ms(I.hook.p90, 2), ms(I.hook.p99, 2)],
      [`no-op hook (\`${I.shebang ?? '#!/bin/bash'}\` like the hook: read stdin, exit 0)`, ms(I.noop.median, 2), ms(I.noop.p90, 2), ms(I.noop.p99, 2)],
      [`**added** (paired difference; target < 10 ms median)`, `**${ms(I.added.median, 2)}**${mark(I.added.median < 10)}`, ms(I.added.p90, 2), `**${ms(I.added.p99, 2)}**`],
      ['no-op hook in bare bwrap (no exec tracing), for context', ms(I.noopBareBwrap?.median, 2), ms(I.noopBareBwrap?.p90, 2), ms(I.noopBareBwrap?.p99, 2)],
    ]));
    if (finite(I.execsPerNoop)) out.push('', `Like with like: the paired session's exec log holds ${round(I.execsPerNoop, 2)} exec per no-op call and ${I.otherExecs} other${I.otherExecs === 1 ? '' : 's'} (the hook is one exec, on the same interpreter, that starts nothing).`);
    const se = I.session ?? {};
    out.push('', `A session of ${I.calls} intercepted calls: ${se.allowed ?? '?'} allowed, ${se.denied ?? '?'} denied, \`personae audit --session ID --kind tool.call\` returns **${se.stored ?? '?'}** events (${se.distinct ?? '?'} distinct tool_use_ids, all naming the persona: ${se.allPersona ? 'yes' : 'no'})${mark(se.stored === I.calls && se.distinct === I.calls)}; ${finite(se.callsPerSecond) ? round(se.callsPerSecond, 0) : '-'} calls/s end to end.`);
  }

  const A = s.audit;
  if (A?.store) {
    const r = A.store;
    out.push('', `### 4. Audit store (benchAudit() from test/bench/audit-bench.ts, reader attached; ${A.rounds} rounds alternating with bare SQLite, ${round(p.auditMs / 1000, 1)} s per phase in all)`, '');
    out.push(table(['phase', 'events', 'events/s', 'append → visible to reader: median / p99 / max', 'flushes'], [
      ['as fast as possible', r.max.events, `${r.max.eventsPerSecond}${mark(r.max.eventsPerSecond > 50_000)}${r.max.rounds ? ` (${r.max.rounds.map((x) => x.eventsPerSecond).join(', ')})` : ''}`, `${ms(r.max.latency.medianMs, 1)} / ${ms(r.max.latency.p99Ms, 1)} / ${ms(r.max.latency.maxMs, 1)}`, r.max.flushes],
      [`paced at ${r.paced.targetRate}/s`, r.paced.events, String(r.paced.eventsPerSecond), `${ms(r.paced.latency.medianMs, 1)}${mark(r.paced.latency.medianMs < 100)} / ${ms(r.paced.latency.p99Ms, 1)} / ${ms(r.paced.latency.maxMs, 1)}`, r.paced.flushes],
      ['bare better-sqlite3 (same table, indexes, pragmas; 2,000 rows per transaction; no reader)', A.bare.events, `${A.bare.eventsPerSecond}${A.bare.runs ? ` (${A.bare.runs.join(', ')})` : ''}`, '-', '-'],
    ]));
    out.push('', `Store ÷ bare SQLite: ${x(r.max.eventsPerSecond / A.bare.eventsPerSecond)}. Targets: > 50,000 events/s, event-to-query latency < 100 ms (marked on the median; latency: the median of the rounds' medians, the worst round's p99 and max).`);
  }

  const S = s.stop?.summary;
  if (S) {
    out.push('', `### 5. Stop (${s.stop.processes} background processes in the session; personae: ${s.stop.rounds} round${s.stop.rounds === 1 ? '' : 's'}, bare bwrap: ${s.stop.bareRounds ?? s.stop.rounds}; medians)`, '');
    out.push(table(['', 'ms'], [
      ['`personae stop ID` (cold CLI) until it returns "verified: no process survives"', `${ms(S.personaeCliMs)}${mark(S.personaeCliMs < 500)}`],
      ['… the session\'s pid namespace seen empty from outside (/proc)', ms(S.personaeEmptyMs)],
      ['engine alone: first `stop` event → `verified` event (audit timestamps)', ms(S.personaeEngineMs)],
      ['bare bwrap with the same processes: SIGKILL → namespace empty (the floor)', ms(S.bareEmptyMs)],
      [`starting the ${s.stop.processes} processes: in personae (exec-traced) / in bare bwrap`, `${ms(S.personaeStartMs)} / ${ms(S.bareStartMs)}`],
    ]));
    out.push('', `Processes in the namespace when stopped: ${S.members ?? '-'}. Target: < 500 ms.`);
  }

  const M = s.memory;
  if (M?.personae || M?.srt) {
    out.push('', `### 6. Memory (${M.sessions} concurrent sessions running \`sleep\`, RSS)`, '');
    const row = (name, r) => (r ? [name, `${r.mainMiB} MiB`, `${r.mainPerSessionMiB} MiB`, `${r.hostSideMiB} MiB`, `${r.hostSidePerSessionMiB} MiB`, Object.entries(r.byProgramMiB).map(([k, v]) => `${k} ${v}`).join(', ')] : [name, '-', '-', '-', '-', '-']);
    out.push(table(['', 'supervisors total', 'per session', 'all host-side processes', 'per session', 'by program (MiB)'], [row('personae run', M.personae), row('srt', M.srt)]));
    out.push('', `\`personae stop --all\` then stopped all ${M.stoppedSessions ?? '?'} sessions, verified, in ${ms(M.stopAllMs)}.`);
  }

  const U = s.ui?.ui;
  if (U) {
    out.push('', '### 7. Desktop UI (Debian Chromium, headless, against the real backend; benchUi() from test/bench/ui-bench.ts)', '');
    out.push(table(['measure', 'median', 'p99', 'max', 'samples'], [
      [`event-to-screen at ${U.latency.rate}/s (${U.latency.achievedRate}/s achieved): appended to the audit database by another process → visible in the page`, `${ms(U.latency.medianMs, 1)}`, ms(U.latency.p99Ms, 1), ms(U.latency.maxMs, 1), U.latency.samples],
      [`frame time while scrolling with ${U.frames.loaded} events loaded (${U.frames.scroll.fps} fps)`, ms(U.frames.scroll.medianMs, 1), ms(U.frames.scroll.p99Ms, 1), ms(U.frames.scroll.maxMs, 1), U.frames.scroll.samples],
      [`frame time while ${U.frames.loaded} events stream in`, ms(U.frames.ingest.medianMs, 1), ms(U.frames.ingest.p99Ms, 1), ms(U.frames.ingest.maxMs, 1), U.frames.ingest.samples],
    ]));
  }

  const R = s.rehide;
  if (R?.windows) {
    out.push('', `### 8. Re-hiding (a denied file the host renames a new file over, ${R.rounds} times, while a reader inside polls it in a tight loop)`, '');
    out.push(table(['replacements', 'new content readable at all', 'window median', 'window p90', 'window max', 'reads inside'], [[R.rounds, `${R.visibleRounds} times`, ms(R.windows.median, 3), ms(R.windows.p90, 3), ms(R.maxMs, 3), R.reads]]));
    out.push('', 'No peer re-hides: in srt, as in bare bwrap, the new file stays readable until the session ends. A figure, not a ratio.');
  }

  const E = s.export;
  if (E?.['http/protobuf']) {
    out.push('', `### 9. Export (\`personae export\` of ${E.events} events to a loopback OTLP receiver; the run tree's CPU with \`export --follow\` running)`, '');
    out.push(table(['protocol', 'time', 'events/s', 'target'], ['http/protobuf', 'http/json'].filter((p) => E[p]).map((p) => [p, ms(E[p].ms), String(E[p].eventsPerSecond), `50000${mark(E[p].eventsPerSecond > 50_000)}`])));
    if (E.cpu) out.push('', table(['`personae run` writing 2,000 files', 'CPU median', 'runs'], [['alone', ms(E.cpu.alone.median), E.cpu.alone.n], ['with `export --follow` shipping', ms(E.cpu.exporting.median), E.cpu.exporting.n]]));
  }

  const C = s.rules;
  if (C?.exec?.none) {
    out.push('', `### 10. Command rules at exec and denied-read tripwires (${C.rounds} interleaved rounds, medians, timed inside the sandbox)`, '');
    const vs = (a, b) => (finite(a) && finite(b) && b > 0 ? a / b : undefined);
    out.push(table(['1,000 fork+exec of /bin/true', 'time', 'per exec', 'vs no rules', 'target'], [
      ['no command rule', ms(C.exec.none.median), `${C.exec.perExecUs.none} µs`, '1×', ''],
      ['15 rules, none naming `true`', ms(C.exec.set.median), `${C.exec.perExecUs.set} µs`, x(vs(C.exec.set.median, C.exec.none.median)), `< 1.10×${mark(vs(C.exec.set.median, C.exec.none.median) < 1.1)}`],
      ['a rule naming `true` too (every exec matched)', ms(C.exec.named.median), `${C.exec.perExecUs.named} µs`, x(vs(C.exec.named.median, C.exec.none.median)), `< 1.10×${mark(vs(C.exec.named.median, C.exec.none.median) < 1.1)}`],
    ]));
    out.push('', table(['workload', 'tripwires on', 'PERSONAE_TRIPWIRES=off', 'ratio'], [
      ['read-heavy: 20,000 files of /usr/lib read, find over /usr/lib and /usr/share', ms(C.reads.on.median), ms(C.reads.off.median), x(vs(C.reads.on.median, C.reads.off.median))],
      ['probe-heavy: 2,000 lookups of absent names under /root and the home directory', ms(C.probes.on.median), ms(C.probes.off.median), x(vs(C.probes.on.median, C.probes.off.median))],
    ]));
  }

  const W = s.worktree;
  if (W?.plain) {
    out.push('', `### 11. Worktree launch (a repository of ${W.files} files; ${W.runs} interleaved cold runs each, ms)`, '');
    out.push(table(['', 'median', 'p90', 'min'], [
      ['`personae run -- true` in the checkout', ms(W.plain.median), ms(W.plain.p90), ms(W.plain.min)],
      ['`personae run --worktree -- true` (worktree made, checked out, summed up at the end)', ms(W.worktree.median), ms(W.worktree.p90), ms(W.worktree.min)],
      ['**added by the worktree** (paired difference; target < 100 ms)', `**${ms(W.added.median)}**${mark(W.added.median < 100)}`, ms(W.added.p90), ms(W.added.min)],
      ['for context: `git worktree add` of the same repository (full checkout)', ms(W.gitWorktreeAdd?.median), ms(W.gitWorktreeAdd?.p90), ms(W.gitWorktreeAdd?.min)],
      ['… with `checkout.workers=4` (as personae checks out)', ms(W.gitWorktreeAdd4?.median), ms(W.gitWorktreeAdd4?.p90), ms(W.gitWorktreeAdd4?.min)],
    ]));
    if (W.phases?.length) out.push('', `One worktree run (PERSONAE_DEBUG=timing, ms since start; ${ms(W.phasesTotal)} wall): ${W.phases.map((ph) => `${ph.phase} ${round(ph.at, 0)}`).join(' · ')}.`);
  }

  out.push('', '### Ratios (a ratio more than 20% worse than the baseline fails `npm run bench`)', '');
  out.push(`Baseline: \`test/bench/baseline.json\`${baseline ? `, recorded ${baseline.recorded.slice(0, 10)}` : ' (created by this run)'}.`, '');
  if (results.remeasured && Object.keys(results.remeasured).length > 0) {
    out.push(`Re-measured once after a suspected regression: ${Object.entries(results.remeasured).map(([name, first]) => `${name} (first run: ${Object.entries(first).map(([k, v]) => `${k.slice(name.length + 1)} ${round(v, 3)}`).join(', ')})`).join('; ')}. The tables above show the second run; each ratio below is the better of the two.`, '');
  }
  out.push(table(['ratio', 'what', 'better', 'this run', 'baseline', 'status'], Object.entries(current).map(([k, v]) => {
    const c = results.comparison?.find((r) => r.key === k);
    return [`\`${k}\``, v.what, v.better, String(round(v.value, 3)), c?.base !== undefined ? String(round(c.base, 3)) : '-', v.gate ? c?.status ?? '' : 'not gated'];
  })));
  const errors = Object.entries(s).flatMap(([name, sec]) => (sec.errors ?? []).map((e) => `${name}: ${e}`));
  const notes = Object.entries(s).flatMap(([name, sec]) => (sec.notes ?? []).map((e) => `${name}: ${e}`));
  if (notes.length > 0) out.push('', `Failures of the other contenders in this run (recorded, not counted in their figures, not failing the bench):\n\n${notes.map((e) => `- ${e.replace(/\n/g, ' ')}`).join('\n')}`);
  out.push('', errors.length === 0 ? 'Correctness checks: all passed.' : `Correctness checks FAILED:\n\n${errors.map((e) => `- ${e.replace(/\n/g, ' ')}`).join('\n')}`);
  out.push('', '<details><summary>Raw results (JSON)</summary>', '', '```json', JSON.stringify({ ...results, comparison: undefined }, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? round(v, 3) : v), 1), '```', '', '</details>');
  return out.join('\n');
}

const SECTION_NUMBERS = { launch: 1, proxy: 2, tls: '2b', intercept: 3, audit: 4, stop: 5, memory: 6, ui: 7, rehide: 8, export: 9, rules: 10, worktree: 11 };

/** The block of `md` from the line `### N. ...` up to the next `### ` heading (or the end). */
function block(md, heading) {
  const i = md.indexOf(`\n${heading}`);
  if (i === -1) return undefined;
  const j = md.indexOf('\n### ', i + 1);
  return { start: i + 1, end: j === -1 ? md.length : j + 1, text: md.slice(i + 1, j === -1 ? md.length : j + 1) };
}

/**
 * The generated section `existing` (between the markers) with the sections of a partial run
 * (`--only`) re-recorded: their tables, their rows in the ratios table and their raw results,
 * each marked with the run that re-recorded it (and `accepted`: its ratios became the baseline).
 * Everything else stays as the full run left it.
 */
export function spliceSections(existing, results, current, baseline, names, accepted = false) {
  const md = renderMarkdown(results, current, baseline);
  const when = `${results.date.slice(0, 10)} at ${results.date.slice(11, 16)} UTC`;
  const note = `_Re-recorded alone by \`${results.command}\` on ${when} (load avg at start: ${results.machine.loadavg.join(' ')}); the other sections are from the run named at the top._`;
  let out = existing;
  for (const name of names) {
    const heading = `### ${SECTION_NUMBERS[name]}. `;
    const fresh = block(md, heading);
    if (fresh === undefined) continue;
    const [title, ...rest] = fresh.text.split('\n');
    const text = [title, '', note, ...rest].join('\n');
    const old = block(out, heading);
    if (old !== undefined) out = `${out.slice(0, old.start)}${text}${out.slice(old.end)}`;
    else {
      // A section the last full run did not have: it goes in before the ratios.
      const at = out.indexOf('\n### Ratios');
      out = at === -1 ? `${out}\n${text}` : `${out.slice(0, at + 1)}${text}${out.slice(at + 1)}`;
    }
    for (const key of Object.keys(current).filter((k) => k.startsWith(`${name}.`))) {
      const row = md.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
      if (row === undefined) continue;
      const marked = `${row.slice(0, -2)} (re-recorded ${results.date.slice(0, 10)}${accepted ? ', accepted as the new baseline with --update' : ''}) |`;
      const lines = out.split('\n');
      if (lines.some((l) => l.startsWith(`| \`${key}\` |`))) out = lines.map((l) => (l.startsWith(`| \`${key}\` |`) ? marked : l)).join('\n');
      else {
        const last = lines.map((l, k) => (l.startsWith('| `') ? k : -1)).filter((k) => k >= 0).at(-1);
        if (last !== undefined) lines.splice(last + 1, 0, marked);
        out = lines.join('\n');
      }
    }
  }
  const jsonStart = out.indexOf('```json\n');
  const jsonEnd = out.indexOf('\n```', jsonStart + 8);
  if (jsonStart !== -1 && jsonEnd !== -1) {
    const raw = JSON.parse(out.slice(jsonStart + 8, jsonEnd));
    for (const name of names) raw.sections[name] = { ...results.sections[name], rerecorded: { date: results.date, command: results.command, loadavg: results.machine.loadavg } };
    const text = JSON.stringify(raw, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? round(v, 3) : v), 1);
    out = `${out.slice(0, jsonStart + 8)}${text}${out.slice(jsonEnd)}`;
  }
  return out;
}
