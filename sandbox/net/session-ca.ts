// The per-session certificate authority the proxy terminates TLS with. Made
// at launch, only for a persona that needs it (a bound credential or an HTTP
// rule); ECDSA P-256 keys from node:crypto, certificates encoded with
// @peculiar/asn1-x509. The private keys live in this process's memory only:
// never written anywhere, gone when the session ends. Leaf certificates are
// made for a host on first use and cached for the session.
import { constants, createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, DEFAULT_CIPHERS } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';
const HOUR_MS = 3_600_000;
/**
 * Node's default cipher list with AES-128-GCM moved first (both TLS 1.3 and
 * 1.2 suites live in this one list): every terminated byte is decrypted and
 * encrypted once more in the proxy, and AES-128 does it in about 3/4 the time.
 */
export const PROXY_CIPHERS = ['TLS_AES_128_GCM_SHA256', ...DEFAULT_CIPHERS.split(':').filter((c) => c !== 'TLS_AES_128_GCM_SHA256')].join(':');
/** Sessions may run for days (overnight, over a weekend): the CA and its leaves outlast any one. */
const VALID_MS = 30 * 24 * HOUR_MS;

export interface SessionCa {
  /** The CA certificate (PEM), for the sandbox's trust bundle. */
  readonly certPem: string;
  /** A TLS context presenting a certificate for `host` signed by the CA (made on first use, then cached). */
  contextFor(host: string): SecureContext;
}

interface KeyPair {
  readonly privateKey: KeyObject;
  readonly spki: SubjectPublicKeyInfo;
  readonly keyId: ArrayBuffer;
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
  // RFC 5280 4.2.1.2, method 1: SHA-1 of the subjectPublicKey bits.
  const keyId = toArrayBuffer(createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest());
  return { privateKey, spki, keyId };
}

function name(commonName: string): Name {
  const attr = (type: string, value: string): RelativeDistinguishedName =>
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([attr(ORGANIZATION, 'personae'), attr(COMMON_NAME, commonName)]);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function serialNumber(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40; // positive, and no leading zero byte
  return toArrayBuffer(bytes);
}

function toPem(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

interface CertInput {
  readonly subject: Name;
  readonly issuer: Name;
  readonly subjectKey: KeyPair;
  readonly issuerKey: KeyPair;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: Extension[];
}

function issue(input: CertInput): string {
  const signature = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature,
    issuer: input.issuer,
    validity: new Validity({ notBefore: input.notBefore, notAfter: input.notAfter }),
    subject: input.subject,
    subjectPublicKeyInfo: input.subjectKey.spki,
    extensions: new Extensions(input.extensions),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signatureValue = toArrayBuffer(sign('sha256', tbsDer, input.issuerKey.privateKey));
  return toPem(AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: signature, signatureValue })));
}

/** Makes a session CA; throws (with the library's or OpenSSL's message) when it cannot. */
export function createSessionCa(label: string, now: Date = new Date()): SessionCa {
  const notBefore = new Date(now.getTime() - HOUR_MS);
  const notAfter = new Date(now.getTime() + VALID_MS);
  const caKey = newKeyPair();
  const caName = name(`personae session CA ${label}`);
  const certPem = issue({
    subject: caName,
    issuer: caName,
    subjectKey: caKey,
    issuerKey: caKey,
    notBefore,
    notAfter,
    extensions: [
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: 0 })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(caKey.keyId)),
    ],
  });
  // One key for every leaf of the session: the leaves differ only in the names they carry.
  const leafKey = newKeyPair();
  const leafKeyPem = leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const contexts = new Map<string, SecureContext>();
  const contextFor = (host: string): SecureContext => {
    const cached = contexts.get(host);
    if (cached) return cached;
    const san = isIP(host) === 0 ? new GeneralName({ dNSName: host }) : new GeneralName({ iPAddress: host });
    const leafPem = issue({
      subject: name(host),
      issuer: caName,
      subjectKey: leafKey,
      issuerKey: caKey,
      notBefore,
      notAfter,
      extensions: [
        extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
        extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
        extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth])),
        extension(id_ce_subjectAltName, false, new SubjectAlternativeName([san])),
        extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(leafKey.keyId)),
        extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(caKey.keyId) })),
      ],
    });
    // `ca` given, so OpenSSL does not load its default roots into a context that verifies nothing.
    const context = createSecureContext({ key: leafKeyPem, cert: leafPem, minVersion: 'TLSv1.2', ciphers: PROXY_CIPHERS, secureOptions: constants.SSL_OP_CIPHER_SERVER_PREFERENCE });
    contexts.set(host, context);
    return context;
  };
  return { certPem, contextFor };
}
