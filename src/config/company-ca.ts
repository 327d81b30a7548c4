/**
 * SHEPHERD_CA_FILE: the company CA bundle (PEM) that GitLab, Jenkins, the Kubernetes API, the notification webhook
 * and Temporal may be signed by. It is read and checked once, when the configuration loads, and then travels as
 * data: every client adds it to the roots it trusts (Node's `ca` option replaces the default roots, so the clients
 * are given both), without a restart and without NODE_EXTRA_CA_CERTS, which Node reads only at process start.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';

/** The company CA bundle, checked. Certificates are public: the whole object may be printed. */
export interface CompanyCa {
  /** The absolute path SHEPHERD_CA_FILE names. */
  readonly file: string;
  /** The bundle's certificates (PEM), in file order. */
  readonly certificates: readonly string[];
  /** What a TLS client trusts with it: Node's default roots, then the bundle's certificates. */
  readonly trusted: readonly string[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * The roots Node trusts by default: the bundled Mozilla store, or on Node 22.15+ `getCACertificates('default')`, which
 * also holds NODE_EXTRA_CA_CERTS and the system store when Node was told to use it.
 */
function defaultRoots(): readonly string[] {
  const get = (tls as { getCACertificates?: (type: 'default') => string[] }).getCACertificates;
  return typeof get === 'function' ? get('default') : tls.rootCertificates;
}

/** Why `file` cannot be read, in words an operator acts on. */
function unreadable(file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `names ${file}, which does not exist: give the path of your company CA bundle (PEM)`;
  if (code === 'EISDIR') return `names ${file}, which is a folder: give the CA bundle file (PEM) in it`;
  if (code === 'EACCES' || code === 'EPERM')
    return `names ${file}, which this user may not read (${code}): make it readable (certificates are not secret)`;
  return `names ${file}, which cannot be read (${code ?? (err as Error).message})`;
}

/**
 * Reads and checks the bundle: at least one PEM `CERTIFICATE` block, each a valid X.509 certificate. Returns the
 * CA, or the problem as the rest of a sentence that starts with the variable's name.
 */
export function readCompanyCa(file: string): CompanyCa | { readonly problem: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: unreadable(file, err) };
  }
  const certificates: string[] = [];
  for (const [block, label] of text.matchAll(PEM_BLOCK)) {
    if (label !== 'CERTIFICATE') continue;
    try {
      void new X509Certificate(block);
    } catch {
      return {
        problem: `names ${file}, whose certificate ${certificates.length + 1} is not a valid X.509 certificate: export the CA again as PEM`,
      };
    }
    certificates.push(`${block}\n`);
  }
  if (certificates.length === 0) {
    return {
      problem: `names ${file}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the company CA bundle in PEM; a DER file (.cer/.crt in binary) converts with \`openssl x509 -inform der -in ca.cer -out ca.pem\``,
    };
  }
  return { file, certificates, trusted: [...defaultRoots(), ...certificates] };
}
