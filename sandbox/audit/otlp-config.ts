// Where and how the audit log is shipped over OTLP, from the standard
// OpenTelemetry variables, checked here so a bad value is one clear line
// (the SDK itself would warn quietly and fall back to localhost:4318):
//   OTEL_EXPORTER_OTLP_ENDPOINT            base URL; /v1/logs and /v1/traces are appended
//   OTEL_EXPORTER_OTLP_{LOGS,TRACES}_ENDPOINT  a signal's full URL, used as is
//   OTEL_EXPORTER_OTLP[_{LOGS,TRACES}]_PROTOCOL  http/protobuf (default) or http/json
//   OTEL_EXPORTER_OTLP[_{LOGS,TRACES}]_HEADERS   key=value,key2=value2 (values URL-encoded)
//   OTEL_EXPORTER_OTLP[_{LOGS,TRACES}]_TIMEOUT   milliseconds per request (default 10000)
//   OTEL_LOGS_EXPORTER / OTEL_TRACES_EXPORTER = none  turns one signal off
// A signal is exported when the base endpoint or its own endpoint is set.
// Pure: reads only the environment object it is given.

export type OtlpSignal = 'logs' | 'traces';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface SignalConfig {
  readonly signal: OtlpSignal;
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface OtlpConfig {
  readonly logs: SignalConfig | null;
  readonly traces: SignalConfig | null;
}

export type OtlpConfigResult = { ok: true; config: OtlpConfig } | { ok: false; error: string };

type Env = Readonly<Record<string, string | undefined>>;

const SIGNAL_VAR: Record<OtlpSignal, string> = { logs: 'LOGS', traces: 'TRACES' };
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Whether any OTLP endpoint is set (what makes `personae serve` export). */
export function otlpConfigured(env: Env): boolean {
  return ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
    .some((k) => (env[k] ?? '').trim() !== '');
}

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function show(text: string): string {
  const t = JSON.stringify(text);
  return t.length > 80 ? `${t.slice(0, 77)}…"` : t;
}

function checkUrl(name: string, text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${name}: ${show(text)} is not a URL (expected e.g. http://collector:4318)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${name}: ${show(text)}: only http:// and https:// are supported (OTLP/HTTP; gRPC is not)`;
  }
  if (url.username !== '' || url.password !== '') return `${name}: put credentials in OTEL_EXPORTER_OTLP_HEADERS, not in the URL`;
  return undefined;
}

/** Parses `key=value,key2=value2` (values URL-decoded) into headers, or a one-line error. */
export function parseOtlpHeaders(name: string, text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  const entries = text.split(',');
  for (let i = 0; i < entries.length; i++) {
    const raw = (entries[i] ?? '').trim();
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    if (eq <= 0) return `${name}: entry ${i + 1} (${show(raw)}) is not key=value`;
    const key = raw.slice(0, eq).trim();
    if (!TOKEN_RE.test(key)) return `${name}: entry ${i + 1}: ${show(key)} is not a valid header name`;
    let v: string;
    try {
      v = decodeURIComponent(raw.slice(eq + 1).trim());
    } catch {
      return `${name}: entry ${i + 1} (${key}): the value is not valid URL encoding`;
    }
    if (/[\r\n\0]/.test(v)) return `${name}: entry ${i + 1} (${key}): the value contains a line break or NUL`;
    out[key.toLowerCase()] = v;
  }
  return out;
}

function protocolOf(env: Env, signal: OtlpSignal): OtlpProtocol | string {
  const specific = `OTEL_EXPORTER_OTLP_${SIGNAL_VAR[signal]}_PROTOCOL`;
  const name = value(env, specific) !== undefined ? specific : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const p = value(env, name) ?? 'http/protobuf';
  if (p === 'http/protobuf' || p === 'http/json') return p;
  if (p === 'grpc') return `${name}: grpc is not supported; use http/protobuf or http/json (port 4318 on a collector)`;
  return `${name}: ${show(p)} is not a protocol (http/protobuf or http/json)`;
}

function timeoutOf(env: Env, signal: OtlpSignal): number | string {
  const specific = `OTEL_EXPORTER_OTLP_${SIGNAL_VAR[signal]}_TIMEOUT`;
  const name = value(env, specific) !== undefined ? specific : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const t = value(env, name);
  if (t === undefined) return 10_000;
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1 || n > 600_000) return `${name}: ${show(t)} must be a whole number of milliseconds from 1 to 600000`;
  return n;
}

function signalConfig(env: Env, signal: OtlpSignal): SignalConfig | null | string {
  const upper = SIGNAL_VAR[signal];
  if (value(env, `OTEL_${upper}_EXPORTER`) === 'none') return null;
  const specificName = `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`;
  const specific = value(env, specificName);
  const base = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  let url: string;
  if (specific !== undefined) {
    const bad = checkUrl(specificName, specific);
    if (bad) return bad;
    url = new URL(specific).toString();
  } else if (base !== undefined) {
    const bad = checkUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base);
    if (bad) return bad;
    url = `${base.endsWith('/') ? base : `${base}/`}v1/${signal}`;
  } else return null;
  const protocol = protocolOf(env, signal);
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') return protocol;
  const headers: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', `OTEL_EXPORTER_OTLP_${upper}_HEADERS`]) {
    const text = value(env, name);
    if (text === undefined) continue;
    const parsed = parseOtlpHeaders(name, text);
    if (typeof parsed === 'string') return parsed;
    Object.assign(headers, parsed);
  }
  const timeoutMs = timeoutOf(env, signal);
  if (typeof timeoutMs === 'string') return timeoutMs;
  return { signal, url, protocol, headers, timeoutMs };
}

/** The export configuration from the environment, or the first problem in one line. */
export function otlpConfigFromEnv(env: Env): OtlpConfigResult {
  const logs = signalConfig(env, 'logs');
  if (typeof logs === 'string') return { ok: false, error: logs };
  const traces = signalConfig(env, 'traces');
  if (typeof traces === 'string') return { ok: false, error: traces };
  if (logs === null && traces === null) {
    return { ok: false, error: 'nothing to export to: set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://collector:4318), or a signal\'s own _LOGS_/_TRACES_ENDPOINT' };
  }
  return { ok: true, config: { logs, traces } };
}
