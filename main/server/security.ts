// Who may talk to the backend. Pure checks, in the order the server applies
// them: the Host header must name our loopback address and port (DNS
// rebinding), a browser's Origin must be ours (cross-site requests), and the
// request must carry the token: a bearer header, the WebSocket subprotocol,
// or the HttpOnly cookie the one-time login link set.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { TOKEN_PROTOCOL_PREFIX } from '../api/contract.js';

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Host header values we answer to. */
export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/** Origins a browser may send (the UI itself). */
export function allowedOrigins(port: number): ReadonlySet<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403 | 421; error: string };

export function checkHost(host: string | undefined, port: number): Verdict {
  if (host !== undefined && allowedHosts(port).has(host.toLowerCase())) return { ok: true };
  return { ok: false, status: 421, error: 'wrong Host header: this backend answers only on its loopback address' };
}

/** A missing Origin is a non-browser client (it still needs the token); a present one must be ours. */
export function checkOrigin(origin: string | undefined, port: number): Verdict {
  if (origin === undefined || allowedOrigins(port).has(origin.toLowerCase())) return { ok: true };
  return { ok: false, status: 403, error: 'foreign Origin refused' };
}

/** Parses a Cookie header into name -> value (first occurrence wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export function bearerOf(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header);
  return m?.[1];
}

/** The token offered in a Sec-WebSocket-Protocol list (`personae-token.<hex>`). */
export function protocolTokenOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const p of header.split(',')) {
    const v = p.trim();
    if (v.startsWith(TOKEN_PROTOCOL_PREFIX)) return v.slice(TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

/** The cookie name: per port, since browsers share cookies between ports of one host. */
export function cookieName(port: number): string {
  return `personae_${port}`;
}

export function sessionCookie(port: number, value: string): string {
  return `${cookieName(port)}=${value}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * The tokens this backend accepts: the main token (bearer, for the CLI, the
 * Electron shell and tests), one-time login codes, and the cookie values
 * they were exchanged for.
 */
export class Credentials {
  readonly token = newToken();
  private readonly codes = new Map<string, number>();
  private readonly cookies = new Set<string>();

  constructor(private readonly codeTtlMs = 10 * 60_000) {}

  /** A fresh single-use login code. */
  newLoginCode(now = Date.now()): string {
    for (const [code, expires] of this.codes) if (expires < now) this.codes.delete(code);
    const code = newToken();
    this.codes.set(code, now + this.codeTtlMs);
    return code;
  }

  /** Consumes a login code; returns the cookie value it is exchanged for, or undefined. */
  redeem(code: string, now = Date.now()): string | undefined {
    const expires = this.codes.get(code);
    if (expires === undefined) return undefined;
    this.codes.delete(code);
    if (expires < now) return undefined;
    const cookie = newToken();
    this.cookies.add(cookie);
    return cookie;
  }

  /** Is the request authenticated by header, subprotocol or cookie? */
  accepts(req: { authorization?: string; protocol?: string; cookie?: string }, port: number): boolean {
    if (sameToken(bearerOf(req.authorization), this.token)) return true;
    if (sameToken(protocolTokenOf(req.protocol), this.token)) return true;
    const c = parseCookies(req.cookie).get(cookieName(port));
    return c !== undefined && this.cookies.has(c);
  }
}
