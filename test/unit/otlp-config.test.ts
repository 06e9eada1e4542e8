// The standard OTEL_EXPORTER_OTLP_* variables, checked: one line per problem.
import { describe, expect, it } from 'vitest';
import { otlpConfigFromEnv, otlpConfigured, parseOtlpHeaders } from '../../sandbox/audit/otlp-config.js';

describe('otlpConfigFromEnv', () => {
  it('appends the signal paths to the base endpoint; a signal endpoint is used as is', () => {
    const r = otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp/v1/traces' });
    expect(r.ok && r.config.logs).toEqual({ signal: 'logs', url: 'http://collector:4318/v1/logs', protocol: 'http/protobuf', headers: {}, timeoutMs: 10_000 });
    expect(r.ok && r.config.traces?.url).toBe('https://traces.example/otlp/v1/traces');
    const slash = otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base/' });
    expect(slash.ok && slash.config.traces?.url).toBe('http://c:4318/base/v1/traces');
  });

  it('protocol, headers and timeout, per signal over the general ones', () => {
    const r = otlpConfigFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-team=a,Authorization=Bearer%20x', OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-team=logs', OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.logs).toMatchObject({ protocol: 'http/json', headers: { 'x-team': 'logs', authorization: 'Bearer x' }, timeoutMs: 2500 });
    expect(r.config.traces).toMatchObject({ protocol: 'http/protobuf', headers: { 'x-team': 'a' } });
  });

  it('a signal is off with OTEL_<SIGNAL>_EXPORTER=none, or when only the other has an endpoint', () => {
    const off = otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' });
    expect(off.ok && off.config.traces).toBe(null);
    const only = otlpConfigFromEnv({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/v1/logs' });
    expect(only.ok && only.config.traces).toBe(null);
    expect(otlpConfigured({})).toBe(false);
    expect(otlpConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x' })).toBe(true);
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318": only http:// and https:// are supported (OTLP/HTTP; gRPC is not)'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" is not a URL (expected e.g. http://collector:4318)'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://u:p@c:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: put credentials in OTEL_EXPORTER_OTLP_HEADERS, not in the URL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported; use http/protobuf or http/json (port 4318 on a collector)'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'udp' }, 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "udp" is not a protocol (http/protobuf or http/json)'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, 'OTEL_EXPORTER_OTLP_TIMEOUT: "10s" must be a whole number of milliseconds from 1 to 600000'],
    [{}, "nothing to export to: set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://collector:4318), or a signal's own _LOGS_/_TRACES_ENDPOINT"],
  ])('%o is one clear line', (env, error) => {
    expect(otlpConfigFromEnv(env)).toEqual({ ok: false, error });
  });
});

describe('parseOtlpHeaders', () => {
  it('names the bad entry', () => {
    expect(parseOtlpHeaders('H', 'a=1,,b = 2 ')).toEqual({ a: '1', b: '2' });
    expect(parseOtlpHeaders('H', 'a=1,nope')).toBe('H: entry 2 ("nope") is not key=value');
    expect(parseOtlpHeaders('H', 'bad key=1')).toBe('H: entry 1: "bad key" is not a valid header name');
    expect(parseOtlpHeaders('H', 'a=%E0%A4%A')).toBe('H: entry 1 (a): the value is not valid URL encoding');
    expect(parseOtlpHeaders('H', 'a=x%0D%0Ay: z')).toBe('H: entry 1 (a): the value contains a line break or NUL');
  });
});
