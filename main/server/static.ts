// Serves the built renderer (`vite build` output in dist/renderer) with a
// strict Content Security Policy. Only files under that folder, never a
// directory listing, never a path with `..`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/**
 * The UI's CSP: scripts only from this origin, connections only back to it.
 * xterm.js writes its theme into <style> elements, hence 'unsafe-inline' for
 * styles (never for scripts).
 */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export function securityHeaders(port: number): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(port),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>personae</title>
<p>The personae UI is not built yet. Run <code>npm run build</code> in the personae folder, then reload.</p>`;

/** Answers a GET for a UI file; false when the path is not one (the caller answers 404). */
export function serveStatic(root: string, pathname: string, res: ServerResponse, port: number): boolean {
  const rel = pathname === '/' ? 'index.html' : pathname.slice(1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return false;
  }
  if (decoded.includes('\0') || decoded.split('/').some((s) => s === '..' || s.startsWith('.'))) return false;
  const file = path.join(root, decoded);
  if (!file.startsWith(root + path.sep)) return false;
  const headers = securityHeaders(port);
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (rel !== 'index.html') return false;
    res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(NOT_BUILT);
    return true;
  }
  const body = readFileSync(file);
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  // Hashed assets may be cached; index.html never (it names the current hashes).
  const cache = decoded.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-store';
  res.writeHead(200, { ...headers, 'content-type': type, 'cache-control': cache, 'content-length': String(body.length) });
  res.end(body);
  return true;
}
