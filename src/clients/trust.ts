/**
 * How every client trusts a company CA (SHEPHERD_CA_FILE, `CompanyCa`), and how a certificate it does not trust
 * becomes a `CertificateError` that says so.
 *
 * Each library takes the CA its own way: `fetch` (gitbeaker, Jenkins' raw calls, the webhook client) a `dispatcher`,
 * an undici `Agent` whose `connect.ca` holds the default roots plus the company CA (an `Agent` of the undici major
 * that Node 20 and 22 embed, which Node 24's fetch still accepts); the npm `jenkins` client (papi over `https`) a `ca`
 * option; the Kubernetes client the cluster's CA in its kubeconfig (`kubernetes-client.ts` adds the company CA to it).
 * Node's `ca` option replaces the default roots, hence `CompanyCa.trusted` (roots + company CA) everywhere.
 */
import { Agent } from 'undici';
import type { CompanyCa } from '../config/company-ca.js';
import { CERTIFICATE_FAILURE_CODES } from '../domain/certificates.js';
import { CertificateError, type SystemName } from '../domain/errors.js';

const dispatchers = new WeakMap<CompanyCa, Agent>();

/**
 * The `fetch` dispatcher that trusts `ca` besides the default roots; undefined without a company CA (fetch's own
 * global dispatcher). One per CA, shared by the clients, so that connections are pooled as with the global one.
 */
export function fetchDispatcher(ca: CompanyCa | undefined): Agent | undefined {
  if (ca === undefined) return undefined;
  let agent = dispatchers.get(ca);
  if (agent === undefined) {
    agent = new Agent({ connect: { ca: [...ca.trusted] } });
    dispatchers.set(ca, agent);
  }
  return agent;
}

/** `fetch` with `fetchDispatcher(ca)` for callers outside the clients (the sandbox webhook registration). */
export function fetchTrusting(ca: CompanyCa | undefined): typeof fetch {
  const dispatcher = fetchDispatcher(ca);
  if (dispatcher === undefined) return fetch;
  return (input, init) => fetch(input, { ...init, dispatcher } as RequestInit);
}

/** A certificate verification failure found in an error or its causes. */
export interface CertificateFailure {
  /** OpenSSL's code, e.g. `SELF_SIGNED_CERT_IN_CHAIN`. */
  readonly code: string;
  /** OpenSSL's words, e.g. `self-signed certificate in certificate chain`. */
  readonly reason: string;
}

/**
 * The certificate failure behind `err`, if any: Node puts the code on the TLS error itself (`https`, papi), fetch
 * wraps it as the `cause` of `TypeError: fetch failed`, node-fetch (the Kubernetes client) copies it onto its
 * `FetchError`.
 */
export function certificateFailureOf(err: unknown): CertificateFailure | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const e = current as { code?: unknown; message?: unknown; reason?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && CERTIFICATE_FAILURE_CODES.has(e.code)) {
      const reason = typeof e.reason === 'string' ? e.reason : typeof e.message === 'string' ? e.message : e.code;
      return { code: e.code, reason: reason.replace(/^request to \S+ failed, reason: /, '') };
    }
    current = e.cause;
  }
  return undefined;
}

const SYSTEM_NAMES: Record<SystemName, string> = {
  gitlab: 'GitLab',
  jenkins: 'Jenkins',
  kubernetes: 'The Kubernetes API',
  argocd: 'Argo CD',
  notifications: 'The notification webhook',
  shepherd: 'Shepherd',
};

/**
 * The error for a certificate failure of `system` during `what`; `urlVariable` is the setting that holds the
 * system's address (named when the certificate is for another host).
 */
export function certificateError(
  system: SystemName,
  failure: CertificateFailure,
  what: string,
  urlVariable: string,
): CertificateError {
  const name = SYSTEM_NAMES[system];
  const cause = `${name} presented a certificate Shepherd does not accept on ${what} (${failure.reason})`;
  let fix: string;
  if (failure.code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    fix = `${urlVariable} must use a host name the certificate was issued for`;
  else if (failure.code === 'CERT_HAS_EXPIRED' || failure.code === 'CERT_NOT_YET_VALID')
    fix = `the certificate must be renewed on the server (or this machine's clock is wrong)`;
  else if (system === 'kubernetes')
    fix = `the kubeconfig must carry the API server's CA (certificate-authority-data), or set SHEPHERD_CA_FILE to your company CA bundle (PEM)`;
  else
    fix = `set SHEPHERD_CA_FILE to your company CA bundle (PEM), or check that the bundle it names holds the CA that issued ${name}'s certificate`;
  return new CertificateError({ system, code: failure.code, reason: failure.reason }, cause, fix);
}
