// Small HTTP helpers: bounded JSON bodies parsed with the contract, JSON
// answers, one-line JSON errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod';
import { MAX_BODY_BYTES, type ErrorBody, type FieldError } from '../api/contract.js';

/** An error that becomes an HTTP answer with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: { code?: string; fields?: FieldError[] } = {},
  ) {
    super(message);
  }
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, error: string, extra: { code?: string; fields?: FieldError[] } = {}): void {
  const body: ErrorBody = { error, ...extra };
  sendJson(res, status, body);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...BASE_HEADERS, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** One line per zod issue: `field: message`. */
export function zodLines(error: z.ZodError): FieldError[] {
  return error.issues.slice(0, 20).map((i) => ({ field: i.path.map(String).join('.'), message: i.message }));
}

function describe(fields: readonly FieldError[]): string {
  return fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join('; ');
}

/** Parses a value with a schema, or throws a 400 naming each problem. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = zodLines(r.error);
  throw new HttpError(400, `invalid ${what}: ${describe(fields)}`, { fields });
}

/** The query string as a plain object (repeated keys: the last wins). */
export function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = v;
  return out;
}

/** Reads a JSON body of at most `limit` bytes; refuses other content types. */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `request body too large (limit ${limit} bytes)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body too large (limit ${limit} bytes)`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve());
    req.on('error', (e) => reject(new HttpError(400, `could not read the request body: ${e.message}`)));
  });
  if (size === 0) return {};
  if (type !== 'application/json') throw new HttpError(415, 'send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'malformed JSON body');
  }
}
