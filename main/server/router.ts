// A tiny router: `METHOD /api/things/:id` patterns, decoded parameters.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

export type Handler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** The handler and parameters for a request; `allowed` lists methods when only the method is wrong. */
  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } | { allowed: string[] } | undefined {
    const segs = pathname.split('/').filter(Boolean);
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchParts(r.parts, segs);
      if (params === undefined) continue;
      if (r.method === method) return { handler: r.handler, params };
      allowed.push(r.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function matchParts(parts: readonly string[], segs: readonly string[]): Record<string, string> | undefined {
  if (parts.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const s = segs[i] as string;
    if (p.startsWith(':')) {
      let v: string;
      try {
        v = decodeURIComponent(s);
      } catch {
        return undefined;
      }
      params[p.slice(1)] = v;
    } else if (p !== s) return undefined;
  }
  return params;
}
