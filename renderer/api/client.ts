// The control API client: same-origin fetch (the HttpOnly cookie from the
// login link, or a bearer token the Electron preload hands over), every
// answer parsed with the contract.
import type * as z from 'zod';
import { ErrorBodySchema, TOKEN_PROTOCOL_PREFIX, type FieldError } from '../../main/api/contract.js';

/** What the Electron preload exposes (absent in a browser). */
interface PersonaeBridge {
  readonly backendUrl: string;
  readonly token: string;
}

declare global {
  interface Window {
    readonly personae?: PersonaeBridge;
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | undefined,
    readonly fields: readonly FieldError[],
  ) {
    super(message);
  }
}

function base(): string {
  return window.personae?.backendUrl ?? '';
}

function authHeaders(): Record<string, string> {
  const token = window.personae?.token;
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** WebSocket URL and subprotocols for a stream path. */
export function socketTarget(path: string): { url: string; protocols: string[] } {
  const origin = base() || window.location.origin;
  const url = origin.replace(/^http/, 'ws') + path;
  const token = window.personae?.token;
  return { url, protocols: token ? [`${TOKEN_PROTOCOL_PREFIX}${token}`] : [] };
}

async function parseAnswer<S extends z.ZodType>(r: Response, schema: S): Promise<z.infer<S>> {
  const text = await r.text();
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(r.status, `the backend answered ${r.status} with something that is not JSON`, undefined, []);
  }
  if (!r.ok) {
    const e = ErrorBodySchema.safeParse(body);
    if (e.success) throw new ApiError(r.status, e.data.error, e.data.code, e.data.fields ?? []);
    throw new ApiError(r.status, `HTTP ${r.status}`, undefined, []);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError(r.status, `unexpected answer from the backend: ${parsed.error.issues[0]?.message ?? ''}`, undefined, []);
  return parsed.data;
}

export async function apiGet<S extends z.ZodType>(path: string, schema: S, query?: Record<string, string | number | undefined>): Promise<z.infer<S>> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') qs.set(k, String(v));
  const suffix = qs.size > 0 ? `?${qs.toString()}` : '';
  const r = await fetch(base() + path + suffix, { headers: authHeaders(), credentials: 'same-origin' });
  return parseAnswer(r, schema);
}

export async function apiSend<S extends z.ZodType>(method: 'POST' | 'PUT', path: string, body: unknown, schema: S): Promise<z.infer<S>> {
  const r = await fetch(base() + path, {
    method,
    headers: { ...authHeaders(), 'content-type': 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify(body ?? {}),
  });
  return parseAnswer(r, schema);
}

/** A URL for a download link (exports); carries the cookie, as links do. */
export function downloadUrl(path: string, query: Record<string, string | undefined> = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) qs.set(k, v);
  return base() + path + (qs.size > 0 ? `?${qs.toString()}` : '');
}

export async function apiText(path: string): Promise<string> {
  const r = await fetch(base() + path, { headers: authHeaders(), credentials: 'same-origin' });
  if (!r.ok) throw new ApiError(r.status, `HTTP ${r.status}`, undefined, []);
  return r.text();
}
