// A real OTLP/HTTP receiver on loopback for tests: decodes what the SDK's
// exporters send, protobuf (with protobufjs, from the OTLP message
// definitions below: the subset of opentelemetry-proto that logs and traces
// requests use) and JSON, into one plain shape. It can go down (refusing
// connections on its port) and come back, answer with an error status, or
// hold a request (to kill the sender while it waits for the answer).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package opentelemetry.proto;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message LogRecord {
  fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3;
  AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8;
  bytes trace_id = 9; bytes span_id = 10; string event_name = 12;
}
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; Status status = 15;
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;
const LogsRequest = root.lookupType('opentelemetry.proto.ExportLogsServiceRequest');
const TraceRequest = root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');

export type Attrs = Record<string, string | number | boolean>;

export interface ReceivedLog {
  readonly traceId: string;
  readonly spanId: string;
  readonly timeUnixNano: string;
  readonly severityNumber: number;
  readonly eventName: string;
  readonly body: string;
  readonly attributes: Attrs;
  readonly resource: Attrs;
}

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: Attrs;
  readonly resource: Attrs;
  readonly statusCode: number;
}

export interface ReceivedRequest {
  readonly path: string;
  readonly contentType: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly logs: ReceivedLog[];
  readonly spans: ReceivedSpan[];
}

/** What to do with one request: answer it (default 200), or hold it unanswered. */
export type Verdict = { status: number } | 'hold';

type Obj = Record<string, unknown>;

function hex(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'string') return /^[0-9a-f]*$/i.test(v) ? v.toLowerCase() : Buffer.from(v, 'base64').toString('hex');
  return '';
}

function anyValue(v: unknown): string | number | boolean {
  const o = (v ?? {}) as Obj;
  if (typeof o.stringValue === 'string') return o.stringValue;
  if (typeof o.boolValue === 'boolean') return o.boolValue;
  if (o.intValue !== undefined) return Number(o.intValue);
  if (typeof o.doubleValue === 'number') return o.doubleValue;
  return JSON.stringify(o);
}

function attrs(list: unknown): Attrs {
  const out: Attrs = {};
  for (const kv of (list ?? []) as Obj[]) out[String(kv.key)] = anyValue(kv.value);
  return out;
}

const asList = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** Decoded request objects (protobufjs toObject or parsed JSON: both camelCase) in one shape. */
function normalize(path: string, obj: Obj): { logs: ReceivedLog[]; spans: ReceivedSpan[] } {
  const logs: ReceivedLog[] = [];
  const spans: ReceivedSpan[] = [];
  for (const rl of asList(obj.resourceLogs)) {
    const resource = attrs((rl.resource as Obj | undefined)?.attributes);
    for (const sl of asList(rl.scopeLogs)) {
      for (const r of asList(sl.logRecords)) {
        logs.push({
          traceId: hex(r.traceId), spanId: hex(r.spanId), timeUnixNano: String(r.timeUnixNano ?? ''),
          severityNumber: Number(r.severityNumber ?? 0), eventName: String(r.eventName ?? ''),
          body: String(anyValue(r.body)), attributes: attrs(r.attributes), resource,
        });
      }
    }
  }
  for (const rs of asList(obj.resourceSpans)) {
    const resource = attrs((rs.resource as Obj | undefined)?.attributes);
    for (const ss of asList(rs.scopeSpans)) {
      for (const s of asList(ss.spans)) {
        spans.push({
          traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), name: String(s.name ?? ''),
          kind: Number(s.kind ?? 0), startTimeUnixNano: String(s.startTimeUnixNano ?? ''), endTimeUnixNano: String(s.endTimeUnixNano ?? ''),
          attributes: attrs(s.attributes), resource, statusCode: Number((s.status as Obj | undefined)?.code ?? 0),
        });
      }
    }
  }
  if (!path.startsWith('/v1/logs') && logs.length > 0) throw new Error(`log records sent to ${path}`);
  if (!path.startsWith('/v1/traces') && spans.length > 0) throw new Error(`spans sent to ${path}`);
  return { logs, spans };
}

export function decodeOtlp(path: string, contentType: string, body: Buffer): { logs: ReceivedLog[]; spans: ReceivedSpan[] } {
  if (contentType.includes('json')) return normalize(path, JSON.parse(body.toString('utf8')) as Obj);
  const type = path.startsWith('/v1/logs') ? LogsRequest : TraceRequest;
  const obj = type.toObject(type.decode(body), { longs: String, bytes: Buffer, defaults: false }) as Obj;
  return normalize(path, obj);
}

export interface OtlpReceiver {
  readonly port: number;
  readonly url: string;
  /** Requests answered with a 2xx: what this receiver acknowledged. */
  readonly accepted: ReceivedRequest[];
  /** Requests it received but did not acknowledge (error status, held, or cut off). */
  readonly refused: ReceivedRequest[];
  /** Decides each request (default: accept). */
  verdict: (req: ReceivedRequest) => Verdict;
  logs(): ReceivedLog[];
  spans(): ReceivedSpan[];
  /** Stops listening: connections to the port are refused until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const accepted: ReceivedRequest[] = [];
  const refused: ReceivedRequest[] = [];
  let server: http.Server | undefined;
  let port = 0;
  const rx: OtlpReceiver = {
    get port() { return port; },
    get url() { return `http://127.0.0.1:${port}`; },
    accepted,
    refused,
    verdict: () => ({ status: 200 }),
    logs: () => accepted.flatMap((r) => r.logs),
    spans: () => accepted.flatMap((r) => r.spans),
    async down() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
    async up() {
      if (server !== undefined) return;
      const s = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const contentType = String(req.headers['content-type'] ?? '');
          let decoded;
          try {
            decoded = decodeOtlp(req.url ?? '', contentType, Buffer.concat(chunks));
          } catch (e) {
            res.writeHead(400).end(`cannot decode: ${(e as Error).message}`);
            return;
          }
          const got: ReceivedRequest = { path: req.url ?? '', contentType, headers: req.headers, ...decoded };
          const v = rx.verdict(got);
          if (v === 'hold') {
            refused.push(got);
            return;
          }
          (v.status < 300 ? accepted : refused).push(got);
          res.writeHead(v.status, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' });
          res.end(v.status < 300 ? (contentType.includes('json') ? '{}' : '') : 'refused by the test receiver');
        });
      });
      await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
      port = (s.address() as AddressInfo).port;
      server = s;
    },
    close: () => rx.down(),
  };
  await rx.up();
  return rx;
}
