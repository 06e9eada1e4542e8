// Each running session listens on a unix socket in personae's run directory
// (never inside the sandbox) so `personae stop` and the backend can stop it
// from another process. One JSON line in, one JSON line out.
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import * as z from 'zod/mini';
import type { PendingApproval } from './intercept/approvals.js';

export const ControlRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('stop'), reason: z._default(z.enum(['user', 'suspend']), 'user') }),
  z.strictObject({ op: z.literal('status') }),
  z.strictObject({ op: z.literal('approvals') }),
  z.strictObject({
    op: z.literal('answer'),
    id: z.string().check(z.regex(/^[0-9a-f]{8}$/)),
    decision: z.enum(['allow', 'deny']),
    by: z.string().check(z.minLength(1), z.maxLength(200)),
  }),
]);
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

export interface ControlHandlers {
  stop(reason: 'user' | 'suspend'): Promise<{ survivors: readonly number[] }>;
  status(): Record<string, unknown>;
  approvals(): readonly PendingApproval[];
  answer(id: string, decision: 'allow' | 'deny', by: string): boolean;
}

export interface ControlServer {
  close(): Promise<void>;
}

const MAX_LINE = 4096;

export async function startControlServer(socketPath: string, handlers: ControlHandlers): Promise<ControlServer> {
  rmSync(socketPath, { force: true });
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => undefined);
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > MAX_LINE) {
        sock.end(`${JSON.stringify({ ok: false, error: 'request too large' })}\n`);
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      const line = buf.slice(0, nl);
      buf = '';
      void answer(line).then((reply) => sock.end(`${JSON.stringify(reply)}\n`));
    });
  });
  const answer = async (line: string): Promise<Record<string, unknown>> => {
    let parsed: ControlRequest;
    try {
      parsed = ControlRequestSchema.parse(JSON.parse(line));
    } catch {
      return { ok: false, error: 'malformed request' };
    }
    if (parsed.op === 'status') return { ok: true, ...handlers.status() };
    if (parsed.op === 'approvals') return { ok: true, approvals: handlers.approvals() };
    if (parsed.op === 'answer') return { ok: handlers.answer(parsed.id, parsed.decision, parsed.by) };
    const r = await handlers.stop(parsed.reason);
    return { ok: r.survivors.length === 0, survivors: r.survivors.length };
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(socketPath, { force: true });
      }),
  };
}

/** Sends one request to a session's control socket; resolves with its reply or rejects (bounded). */
export function sendControl(socketPath: string, req: ControlRequest, timeoutMs = 8000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no answer from the session'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: string) => {
      buf += d;
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as Record<string, unknown>);
      } catch {
        reject(new Error('malformed answer from the session'));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
