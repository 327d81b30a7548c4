/**
 * Temporal behind a company CA. The dev server cannot serve TLS (`temporal server start-dev` has no TLS flags), so a
 * TLS terminator with a certificate of a CA of its own stands in front of the suite's dev server, as an ingress
 * would: the client connection (grpc-js) and the worker connection (the Rust core) trust it through SHEPHERD_CA_FILE
 * with TEMPORAL_TLS, and refuse it without.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { issueWorldCertificates } from '../../src/sandbox/core/tls.js';
import { connectClient, connectWorker, targetFrom, type TemporalTarget } from '../../src/temporal/connection.js';

let terminator: Server;
const sockets = new Set<Socket>();
let address: string;
let caFile: string;

beforeAll(async () => {
  const certs = await issueWorldCertificates({ name: 'Company CA for Temporal' });
  caFile = join(mkdtempSync(join(tmpdir(), 'shepherd-temporal-ca-')), 'ca.pem');
  writeFileSync(caFile, certs.caPem);
  const [host, port] = inject('temporalAddress').split(':') as [string, string];
  // gRPC over TLS negotiates h2 by ALPN; the bytes inside are the same HTTP/2 the dev server speaks in clear.
  terminator = createServer({ cert: certs.serverChainPem, key: certs.serverKeyPem, ALPNProtocols: ['h2'] }, (tls) => {
    const upstream = connect(Number(port), host);
    for (const s of [tls, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    tls.pipe(upstream).pipe(tls);
    tls.on('close', () => upstream.destroy());
    upstream.on('close', () => tls.destroy());
  });
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(terminator.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => terminator?.close(() => resolve()));
});

function target(env: Record<string, string>): TemporalTarget {
  const config = loadConfig({ env: { TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'true', ...env } });
  return targetFrom(config.temporal, address);
}

describe('Temporal behind a company CA', () => {
  it('the client connection trusts it with SHEPHERD_CA_FILE and TEMPORAL_TLS', async () => {
    const client = await connectClient(target({ SHEPHERD_CA_FILE: caFile }));
    try {
      const info = await client.workflowService.getSystemInfo({});
      expect(info.serverVersion).toEqual(expect.any(String));
    } finally {
      await client.connection.close();
    }
  });

  it('the worker connection (the Rust core) trusts it too', async () => {
    const connection = await connectWorker(target({ SHEPHERD_CA_FILE: caFile }));
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toEqual(expect.any(String));
    } finally {
      await connection.close();
    }
  });

  it('without it both connections fail with an error that names the certificate problem and SHEPHERD_CA_FILE', async () => {
    const said = `Temporal at ${address} presented a certificate Shepherd does not accept (SELF_SIGNED_CERT_IN_CHAIN): set SHEPHERD_CA_FILE to your company CA bundle (PEM), or TEMPORAL_TLS_CA_PATH to the CA of your Temporal frontend`;
    await expect(connectWorker(target({}))).rejects.toThrow(said);
    await expect(connectClient(target({}))).rejects.toThrow(said);
  });
});
