// The certificates a terminating session trusts, both ways:
// - inside the sandbox, one bundle: the system's CAs plus the session CA,
//   bound read-only and named by every variable common TLS stacks read;
// - upstream, the system's CAs plus PERSONAE_UPSTREAM_CA (tests, private CAs).
// "The system's CAs" is the file OpenSSL would use: SSL_CERT_FILE when the
// host sets it, else the distribution's bundle, else Node's own roots.
import { existsSync, readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

/** Where distributions keep their CA bundle (Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine/macOS). */
export const SYSTEM_CA_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
] as const;


const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A one-line reason the trust bundle cannot be made. */
export class TrustError extends Error {
  override readonly name = 'TrustError';
}

/** The PEM certificates in `text`, one per line block. */
export function pemCertificates(text: string): string[] {
  return text.match(PEM_CERT_RE) ?? [];
}

/** The system's CA certificates as PEM text; throws a TrustError naming the file when it is unusable. */
export function systemCertificates(env: NodeJS.ProcessEnv, candidates: readonly string[] = SYSTEM_CA_FILES): string {
  const chosen = env.SSL_CERT_FILE !== undefined && env.SSL_CERT_FILE !== '' ? { file: env.SSL_CERT_FILE, from: 'SSL_CERT_FILE ' } : undefined;
  const file = chosen?.file ?? candidates.find((f) => existsSync(f));
  if (file === undefined) return `${rootCertificates.join('\n')}\n`;
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TrustError(`cannot read the system's CA certificates from ${chosen?.from ?? ''}${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
  }
  const certs = pemCertificates(text);
  if (certs.length === 0) throw new TrustError(`${chosen?.from ?? ''}${file} holds no PEM certificate; personae cannot build the sandbox's trust bundle from it`);
  return `${certs.join('\n')}\n`;
}

/** The bundle the sandbox trusts: the system's CAs, then the session CA. */
export function sandboxBundle(system: string, sessionCaPem: string): string {
  return `${system}${system.endsWith('\n') ? '' : '\n'}${sessionCaPem}`;
}

/** What upstream servers are verified against: the system's CAs plus the extra ones. */
export function upstreamTrust(system: string, extra: string | undefined): string {
  return extra === undefined ? system : `${system}${system.endsWith('\n') ? '' : '\n'}${extra}`;
}
