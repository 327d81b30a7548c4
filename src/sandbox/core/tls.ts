/**
 * The world's own certificate authority, for installations behind a company CA (trait `tls`, `shepherd sandbox
 * --tls`). At world start it issues, without network and without a system binary:
 *
 * - a root CA (RSA 2048, SHA-256, `basicConstraints CA:true pathlen:0`, `keyCertSign, cRLSign`), self-signed, that
 *   no trust store knows: clients must be told to trust it, as with a real company CA;
 * - one server certificate signed by it (RSA 2048, SHA-256, `digitalSignature, keyEncipherment`, `serverAuth`) whose
 *   subjectAltName names `127.0.0.1` and `localhost`, served by every sandbox server.
 *
 * Servers send the chain (server certificate, then the CA), as real ones commonly do, so that a client without the CA
 * reports "self-signed certificate in certificate chain". node-forge encodes the X.509 structures; keys and
 * signatures come from Node's native crypto (forge's own RSA in JavaScript takes a second a signature).
 */
import { createPrivateKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** What a TLS server needs (Node's `tls.createServer` `key` and `cert`), and what clients must trust. */
export interface WorldCertificates {
  /** The CA certificate (PEM): what `ca.pem` holds and SHEPHERD_CA_FILE points at. */
  readonly caPem: string;
  /** The server certificate followed by the CA certificate (PEM). */
  readonly serverChainPem: string;
  /** The server certificate's private key (PKCS#8 PEM). */
  readonly serverKeyPem: string;
}

/** The names the server certificate is valid for: the sandbox listens on 127.0.0.1 only. */
export const SERVER_NAMES = { dns: ['localhost'], ip: ['127.0.0.1'] } as const;

const generateRsa = promisify(generateKeyPair);
/** Leeway for clocks that run a little behind the world's. */
const NOT_BEFORE_SKEW_MS = 5 * 60_000;
const CA_VALIDITY_MS = 365 * 24 * 3600_000;
/** Below the 398 days browsers and many clients accept for a server certificate. */
const SERVER_VALIDITY_MS = 90 * 24 * 3600_000;

interface RsaKeys {
  readonly publicKey: forge.pki.rsa.PublicKey;
  readonly privateKey: KeyObject;
  readonly privateKeyPem: string;
}

async function rsaKeys(): Promise<RsaKeys> {
  const { publicKey, privateKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKey: createPrivateKey(privateKey),
    privateKeyPem: privateKey,
  };
}

/** A positive serial of 16 random bytes (RFC 5280: at most 20 octets, non-negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** forge exports it (lib/x509.js) but its type definitions do not declare it. */
interface ForgeTbs {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
}

/** What forge's `cert.sign` does, with the RSA signature made natively: sha256WithRSAEncryption over the TBS DER. */
function signCertificate(cert: forge.pki.Certificate, key: KeyObject): void {
  const c = cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1 };
  c.signatureOid = c.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  c.tbsCertificate = (forge.pki as unknown as ForgeTbs).getTBSCertificate(c);
  const tbs = Buffer.from(forge.asn1.toDer(c.tbsCertificate).getBytes(), 'binary');
  c.signature = sign('sha256', tbs, key).toString('binary');
}

function validity(cert: forge.pki.Certificate, now: number, lifetimeMs: number): void {
  cert.validity.notBefore = new Date(now - NOT_BEFORE_SKEW_MS);
  cert.validity.notAfter = new Date(now + lifetimeMs);
}

/** Issues the world's CA and its server certificate for 127.0.0.1 and localhost. */
export async function issueWorldCertificates(
  opts: { readonly name?: string; readonly now?: number } = {},
): Promise<WorldCertificates> {
  const now = opts.now ?? Date.now();
  const [caKeys, serverKeys] = await Promise.all([rsaKeys(), rsaKeys()]);

  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serialNumber();
  validity(ca, now, CA_VALIDITY_MS);
  const caSubject = [
    { name: 'organizationName', value: 'Shepherd sandbox' },
    { name: 'commonName', value: opts.name ?? 'Shepherd sandbox world CA' },
  ];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(ca, caKeys.privateKey);

  const server = forge.pki.createCertificate();
  server.publicKey = serverKeys.publicKey;
  server.serialNumber = serialNumber();
  validity(server, now, SERVER_VALIDITY_MS);
  server.setSubject([
    { name: 'organizationName', value: 'Shepherd sandbox' },
    { name: 'commonName', value: 'localhost' },
  ]);
  server.setIssuer(caSubject);
  server.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...SERVER_NAMES.dns.map((value) => ({ type: 2, value })),
        ...SERVER_NAMES.ip.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCertificate(server, caKeys.privateKey);

  const caPem = forge.pki.certificateToPem(ca);
  return {
    caPem,
    serverChainPem: forge.pki.certificateToPem(server) + caPem,
    serverKeyPem: serverKeys.privateKeyPem,
  };
}
