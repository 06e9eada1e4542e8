// The session CA's certificates, read back with Node's X.509 parser and
// verified against each other (the TLS handshakes are tested for real in
// test/integration/net-intercept.test.ts).
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSessionCa } from '../../sandbox/net/session-ca.js';
import { sandboxBundle, systemCertificates, TrustError, upstreamTrust } from '../../sandbox/net/trust.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

describe('createSessionCa', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const ca = createSessionCa('abcd1234', now);
  const caCert = new X509Certificate(ca.certPem);

  it('is a CA, self-signed, valid around now, named for the session', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toContain('CN=personae session CA abcd1234');
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(new Date(caCert.validFrom).getTime()).toBeLessThan(now.getTime());
    expect(new Date(caCert.validTo).getTime()).toBeGreaterThan(now.getTime() + 7 * 86_400_000);
    expect(caCert.publicKey.asymmetricKeyType).toBe('ec');
  });

  it('keeps its TLS contexts per host', () => {
    expect(ca.contextFor('api.example.com')).toBe(ca.contextFor('api.example.com'));
    expect(ca.contextFor('api.example.com')).not.toBe(ca.contextFor('other.example.com'));
  });

  it('two sessions never share a CA', () => {
    expect(createSessionCa('x').certPem).not.toBe(createSessionCa('x').certPem);
  });
});

describe('trust', () => {
  it('reads the system CAs from SSL_CERT_FILE or the distribution bundle, and says so when it cannot', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'personae-trust-'));
    try {
      const ca = createSessionCa('t');
      const file = path.join(dir, 'ca.pem');
      writeFileSync(file, `junk\n${ca.certPem}`);
      expect(systemCertificates({ SSL_CERT_FILE: file })).toBe(ca.certPem);
      expect(() => systemCertificates({ SSL_CERT_FILE: path.join(dir, 'missing.pem') })).toThrow(TrustError);
      expect(() => systemCertificates({ SSL_CERT_FILE: path.join(dir, 'missing.pem') })).toThrow(/SSL_CERT_FILE .*missing\.pem \(no such file\)/);
      writeFileSync(path.join(dir, 'empty.pem'), 'none\n');
      expect(() => systemCertificates({ SSL_CERT_FILE: path.join(dir, 'empty.pem') })).toThrow(/holds no PEM certificate/);
      // No file anywhere: Node's own roots.
      expect(systemCertificates({}, [path.join(dir, 'nowhere.pem')])).toContain('BEGIN CERTIFICATE');
      expect(sandboxBundle('A\n', 'B\n')).toBe('A\nB\n');
      expect(upstreamTrust('A', 'B\n')).toBe('A\nB\n');
      expect(upstreamTrust('A\n', undefined)).toBe('A\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
