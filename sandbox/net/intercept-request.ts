// One HTTP request the proxy can see (inside a terminated TLS connection, or
// plain HTTP): decided against the HTTP rules, searched for placeholders that
// must not go where it goes, given the values of the credentials bound to
// its host, sent on, and recorded once, with the response's status and the
// bytes each way. A refused request never leaves the proxy.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { boundTo, leakInUrl, placeholderPatterns, rewriteHeaders, scrubHeaders, valuePatterns } from './credentials.js';
import type { HeaderRewrite } from './credentials.js';
import type { Binding, Leak } from './credentials.js';
import type { CompiledNetworkRules } from './domain-rules.js';
import { decideRequest, redactTarget } from './http-policy.js';
import { endToEndHeaders, withoutHeader } from './http-target.js';
import { errorCode } from './resolve.js';
import { CountingStream, DetectStream, ReplaceStream } from './scan-stream.js';

/** One request the proxy saw, reported exactly once. */
export interface HttpRequestRecord {
  readonly scheme: 'https' | 'http';
  readonly method: string;
  readonly host: string;
  readonly port: number;
  /** Path and query, each query value shown as `*`. */
  readonly path: string;
  readonly decision: 'allow' | 'deny';
  readonly reason: string;
  readonly status?: number;
  readonly bytesOut: number;
  readonly bytesIn: number;
  readonly durationMs: number;
  /** Credentials whose value went into this request, by variable name. */
  readonly credentials: readonly string[];
  readonly error?: string;
}

/** A placeholder headed where its credential is not bound; the request was refused. */
export interface CredentialRecord {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly scheme: 'https' | 'http';
  /** `url`, `header NAME` or `body`. */
  readonly where: string;
  readonly reason: string;
}

export interface RequestContext {
  readonly rules: CompiledNetworkRules;
  readonly bindings: readonly Binding[];
  readonly onRequest: (r: HttpRequestRecord) => void;
  readonly onCredential: (c: CredentialRecord) => void;
  readonly idleTimeoutMs: number;
}

export interface RequestTarget {
  readonly scheme: 'https' | 'http';
  readonly host: string;
  readonly port: number;
  /** `host[:port]` for the Host header. */
  readonly authority: string;
}

/** Sends the request upstream (headers as a flat raw list); the caller's transport. */
export type SendUpstream = (method: string, path: string, headers: string[]) => ClientRequest;

/** Errors that mean the upstream's certificate is not one personae trusts for this host. */
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/;

function plainText(res: ServerResponse, status: number, message: string): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `personae proxy: ${message}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function leakReason(leak: Leak, target: RequestTarget, bindings: readonly Binding[]): string {
  const binding = bindings.find((b) => b.name === leak.name);
  const hosts = binding?.hosts.map((h) => (h.port === 443 ? h.host : `${h.host}:${h.port}`)).join(', ') ?? '';
  if (target.scheme === 'http' && binding?.hosts.some((h) => h.host === target.host) === true) return `credentials.${leak.name} is sent over HTTPS only; its placeholder went to ${target.host} in plain HTTP (${leak.where})`;
  return `credentials.${leak.name} is bound to ${hosts || 'no host'}; its placeholder was headed to ${target.host} (${leak.where})`;
}

/** The origin-form path of a request target (an absolute-form target loses its authority: the tunnel decides the host). */
export function originForm(url: string): string {
  if (url.startsWith('/')) return url;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  if (!m) return url;
  const rest = m[1] ?? '';
  return rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
}

/** Handles one request to `target`; `send` opens the upstream request once it may go. */
export function handleRequest(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, target: RequestTarget, send: SendUpstream): void {
  const started = performance.now();
  const method = req.method ?? 'GET';
  const path = originForm(req.url ?? '/');
  let injected: readonly string[] = [];
  let reported = false;
  let bytesOut: { bytes: number } = { bytes: 0 };
  let bytesIn: { bytes: number } = { bytes: 0 };
  const report = (decision: 'allow' | 'deny', reason: string, extra: { status?: number; error?: string } = {}): void => {
    if (reported) return;
    reported = true;
    const record: HttpRequestRecord = {
      scheme: target.scheme, method, host: target.host, port: target.port, path: redactTarget(path), decision, reason,
      bytesOut: bytesOut.bytes, bytesIn: bytesIn.bytes, durationMs: Math.round((performance.now() - started) * 100) / 100, credentials: injected, ...extra,
    };
    try {
      ctx.onRequest(record);
    } catch {
      // a failing consumer must not take the proxy down
    }
  };
  const refuse = (status: number, reason: string): void => {
    report('deny', reason, { status });
    req.resume();
    plainText(res, status, `blocked ${method} ${target.host}${redactTarget(path)}: ${reason}`);
  };
  const credentialLeak = (leak: Leak): string => {
    const reason = leakReason(leak, target, ctx.bindings);
    try {
      ctx.onCredential({ name: leak.name, host: target.host, port: target.port, scheme: target.scheme, where: leak.where, reason });
    } catch {
      // as above
    }
    return reason;
  };

  const verdict = decideRequest(ctx.rules, target.host, target.port, method, path);
  if (verdict.decision === 'deny') return refuse(403, verdict.reason);
  const bound = target.scheme === 'https' ? ctx.bindings.filter((b) => boundTo(b, target.host, target.port)) : [];
  const others = ctx.bindings.filter((b) => !bound.includes(b));
  const urlLeak = leakInUrl(path, others);
  if (urlLeak) return refuse(403, credentialLeak(urlLeak));
  const rewrite = rewriteHeaders(endToEndHeaders(req.rawHeaders), bound, others);
  if (rewrite.leak) return refuse(403, credentialLeak(rewrite.leak));
  injected = rewrite.injected;
  // A host that holds a value may echo it: ask for an uncompressed answer, so it can be taken out.
  const headers = bound.length > 0 ? withoutHeader(rewrite.headers, 'accept-encoding') : rewrite.headers;
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const upstreamHeaders = ['Host', target.authority, ...(chunked ? withoutHeader(headers, 'content-length') : headers)];
  if (chunked) upstreamHeaders.push('Transfer-Encoding', 'chunked');

  let outgoing: ClientRequest | undefined;
  const body = others.length > 0
    ? new DetectStream(placeholderPatterns(others), (pattern) => {
        outgoing?.destroy();
        refuse(403, credentialLeak({ name: pattern.name, where: 'body' }));
      })
    : new CountingStream();
  bytesOut = body;
  try {
    outgoing = send(method, path, upstreamHeaders);
  } catch (error) {
    return refuse(400, `cannot forward this request: ${errorCode(error)}`);
  }
  outgoing.setTimeout(ctx.idleTimeoutMs, () => outgoing?.destroy(new Error('ETIMEDOUT')));
  // The status once the upstream's whole answer has been read (then its connection goes back to the pool).
  let upstreamDone: number | undefined;
  outgoing.on('response', (incoming: IncomingMessage) => {
    incoming.once('end', () => (upstreamDone = incoming.statusCode ?? 502));
    relayResponse(incoming, res, bound, rewrite.echoes, (r) => (bytesIn = r), (status, error) =>
      report('allow', verdict.reason, error === undefined ? { status } : { status, error }),
    );
  });
  outgoing.on('error', (error) => {
    const code = errorCode(error);
    if (reported) return;
    if (CERT_ERRORS.test(code)) {
      report('deny', `the upstream certificate of ${target.host} is not trusted (${code}); nothing was sent`, { status: 502, error: code });
      return plainText(res, 502, `${target.host} presented a certificate personae does not trust (${code}); nothing was sent`);
    }
    report('allow', verdict.reason, { status: 502, error: code });
    plainText(res, code === 'ETIMEDOUT' ? 504 : 502, `upstream ${target.host} failed: ${code}`);
  });
  // A client that hangs up once the whole answer came (as `Connection: close` clients do) leaves the
  // upstream connection alive for the next request; destroying the request then would close it.
  const abandon = (): void => {
    if (upstreamDone === undefined) outgoing?.destroy();
  };
  res.on('close', () => {
    if (upstreamDone !== undefined) return report('allow', verdict.reason, { status: upstreamDone });
    if (!res.writableFinished) abandon();
    if (!reported) report('allow', verdict.reason, { error: 'ECONNRESET' });
  });
  req.on('error', abandon);
  req.pipe(body).pipe(outgoing);
}

function relayResponse(
  incoming: IncomingMessage,
  res: ServerResponse,
  bound: readonly Binding[],
  echoes: HeaderRewrite['echoes'],
  counter: (c: { bytes: number }) => void,
  done: (status: number, error?: string) => void,
): void {
  const status = incoming.statusCode ?? 502;
  let headers = endToEndHeaders(incoming.rawHeaders);
  let stream: CountingStream;
  if (bound.length > 0) {
    const patterns = valuePatterns(bound, echoes);
    headers = scrubHeaders(headers, patterns);
    stream = new ReplaceStream(patterns);
    // Placeholders match their values' length; where one cannot, the length may change.
    if (patterns.some((p) => p.replace?.length !== p.find.length)) headers = withoutHeader(headers, 'content-length');
  } else {
    stream = new CountingStream();
  }
  counter(stream);
  try {
    res.writeHead(status, incoming.statusMessage, headers);
  } catch {
    incoming.destroy();
    plainText(res, 502, 'upstream sent an unusable response head');
    done(502, 'bad response head');
    return;
  }
  incoming.on('error', () => res.destroy());
  res.once('finish', () => done(status));
  incoming.pipe(stream).pipe(res);
}
