// The OpenTelemetry JS SDK's OTLP/HTTP exporters (protobuf or JSON), fed
// with records built from otlp-map.ts. The SDK does the protocol; personae
// does the batching, the durable cursor and the back-off (otlp-export.ts),
// so its providers and in-memory processors (which drop under pressure)
// are not used. Loaded only by `personae export` and the exporter `serve`
// starts, never by `personae run`.
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { lazyRequire } from '../lazy-require.js';
import type { SignalConfig } from './otlp-config.js';
import type { LogData, SpanData } from './otlp-map.js';

export interface ResourceInfo {
  readonly version: string;
  readonly host: string;
  readonly user: string;
}

export interface SignalSender {
  /** Resolves once the receiver acknowledged the batch; rejects with the SDK's error otherwise. */
  send(items: readonly (LogData | SpanData)[]): Promise<void>;
  shutdown(): Promise<void>;
}

const SCOPE = { name: 'personae', version: '' };

function hrTime(ms: number): HrTime {
  const whole = Math.floor(ms);
  return [Math.floor(whole / 1000), (whole % 1000) * 1_000_000];
}

function context(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
}

export function makeResource(info: ResourceInfo): Resource {
  return resourceFromAttributes({
    'service.name': 'personae',
    'service.version': info.version,
    'host.name': info.host,
    'user.name': info.user,
  });
}

function toLogRecord(d: LogData, resource: Resource, scope: typeof SCOPE): ReadableLogRecord {
  const t = hrTime(d.timeMs);
  return {
    hrTime: t,
    hrTimeObserved: t,
    spanContext: context(d.traceId, d.spanId),
    severityNumber: d.severityNumber as SeverityNumber,
    severityText: d.severityText,
    body: d.body,
    eventName: d.eventName,
    resource,
    instrumentationScope: scope,
    attributes: d.attributes,
    droppedAttributesCount: 0,
  };
}

function toSpan(d: SpanData, resource: Resource, scope: typeof SCOPE): ReadableSpan {
  const start = hrTime(d.startMs);
  const end = hrTime(Math.max(d.startMs, d.endMs));
  const span: ReadableSpan = {
    name: d.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => context(d.traceId, d.spanId),
    ...(d.parentSpanId === undefined ? {} : { parentSpanContext: context(d.traceId, d.parentSpanId) }),
    startTime: start,
    endTime: end,
    status: d.status.code === 'error'
      ? { code: SpanStatusCode.ERROR, ...(d.status.message === undefined ? {} : { message: d.status.message }) }
      : { code: SpanStatusCode.UNSET },
    attributes: d.attributes,
    links: [],
    events: [],
    duration: hrTime(Math.max(0, d.endMs - d.startMs)),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
  return span;
}

interface SdkExporter<T> {
  export(items: T[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

type ExporterModule = { OTLPLogExporter?: new (o: object) => unknown; OTLPTraceExporter?: new (o: object) => unknown };

// Required, not imported: the CLI runs as one bundled script in which a
// dynamic import() of a package left out of the bundle cannot resolve.
const EXPORTERS = {
  logs: {
    'http/protobuf': lazyRequire<ExporterModule>('@opentelemetry/exporter-logs-otlp-proto'),
    'http/json': lazyRequire<ExporterModule>('@opentelemetry/exporter-logs-otlp-http'),
  },
  traces: {
    'http/protobuf': lazyRequire<ExporterModule>('@opentelemetry/exporter-trace-otlp-proto'),
    'http/json': lazyRequire<ExporterModule>('@opentelemetry/exporter-trace-otlp-http'),
  },
} as const;

function exporterFor(cfg: SignalConfig): SdkExporter<unknown> {
  // One batch is in flight at a time; the SDK frees its slot only after calling back, so a
  // limit of 1 would refuse the next batch sent from that callback ("Concurrent export limit reached").
  const options = { url: cfg.url, headers: { ...cfg.headers }, timeoutMillis: cfg.timeoutMs, concurrencyLimit: 2 };
  const mod = EXPORTERS[cfg.signal][cfg.protocol]();
  const Exporter = cfg.signal === 'logs' ? mod.OTLPLogExporter : mod.OTLPTraceExporter;
  if (Exporter === undefined) throw new Error(`the OpenTelemetry ${cfg.signal} exporter for ${cfg.protocol} is missing`);
  return new Exporter(options) as SdkExporter<unknown>;
}

/** A sender for one signal over the SDK's exporter for its protocol. */
export function createSignalSender(cfg: SignalConfig, info: ResourceInfo): SignalSender {
  const exporter = exporterFor(cfg);
  const resource = makeResource(info);
  const scope = { ...SCOPE, version: info.version };
  const build = (d: LogData | SpanData): unknown =>
    cfg.signal === 'logs' ? toLogRecord(d as LogData, resource, scope) : toSpan(d as SpanData, resource, scope);
  return {
    send: (items) =>
      new Promise<void>((resolve, reject) => {
        exporter.export(items.map(build), (result) => {
          if (result.code === 0) resolve();
          else reject(result.error ?? new Error('export failed'));
        });
      }),
    shutdown: () => exporter.shutdown(),
  };
}
