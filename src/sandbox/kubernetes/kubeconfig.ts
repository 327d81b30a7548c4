/**
 * Writes a kubeconfig for the simulated API server, usable by kubectl and by `KubeConfig.loadFromFile`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export const SANDBOX_CONTEXT = 'shepherd-sandbox';

export interface KubeconfigOptions {
  /** `http://127.0.0.1:<port>` (or `https://`), without a trailing slash. */
  server: string;
  token: string;
  namespace?: string;
  /** The CA (PEM) that signed an `https://` server's certificate, written as `certificate-authority-data`. */
  certificateAuthority?: string;
  /**
   * Further contexts, each with a cluster entry of its own (a pipeline's clusters, named like them): the current
   * context stays `shepherd-sandbox`, the first server's. Same token and trust as the first server.
   */
  contexts?: readonly { readonly name: string; readonly server: string }[];
}

/**
 * The kubeconfig text. An `https://` server comes with its CA (`certificate-authority-data`, base64 of the PEM, as
 * kubeadm writes it); a plain-http one needs `insecure-skip-tls-verify`, without which client-node 1.x refuses it.
 */
export function kubeconfigYaml(opts: KubeconfigOptions): string {
  const trust =
    opts.certificateAuthority !== undefined
      ? { 'certificate-authority-data': Buffer.from(opts.certificateAuthority, 'utf8').toString('base64') }
      : { 'insecure-skip-tls-verify': true };
  const all = [{ name: SANDBOX_CONTEXT, server: opts.server }, ...(opts.contexts ?? [])];
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: all.map((c) => ({ name: c.name, cluster: { server: c.server.replace(/\/+$/, ''), ...trust } })),
    users: [{ name: SANDBOX_CONTEXT, user: { token: opts.token } }],
    contexts: all.map((c) => ({
      name: c.name,
      context: { cluster: c.name, user: SANDBOX_CONTEXT, namespace: opts.namespace ?? 'default' },
    })),
    'current-context': SANDBOX_CONTEXT,
    preferences: {},
  });
}

/** Writes the kubeconfig to `file` (mode 0600, it holds the token), creating the folder. */
export async function writeKubeconfig(file: string, opts: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, kubeconfigYaml(opts), { mode: 0o600 });
}
