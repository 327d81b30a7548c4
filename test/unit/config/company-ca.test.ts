/**
 * SHEPHERD_CA_FILE as configuration: read and checked when the configuration loads (a missing, unreadable or non-PEM
 * file is a ConfigError that says what to do), added to the default roots, and handed to the Temporal connection
 * when TEMPORAL_TLS is on (unless TEMPORAL_TLS_CA_PATH names its own roots).
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { issueWorldCertificates } from '../../../src/sandbox/core/tls.js';
import { targetFrom, tlsConfig } from '../../../src/temporal/connection.js';

let dir: string;
let caPem: string;
let otherCaPem: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-ca-'));
  [caPem, otherCaPem] = (await Promise.all([issueWorldCertificates(), issueWorldCertificates()])).map(
    (c) => c.caPem,
  ) as [string, string];
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function problemOf(env: Record<string, string>): string {
  try {
    loadConfig({ env, cwd: dir });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problem = err.problems.find((p) => p.variable === 'SHEPHERD_CA_FILE');
    if (problem) return problem.message;
  }
  throw new Error('expected a SHEPHERD_CA_FILE problem');
}

describe('SHEPHERD_CA_FILE', () => {
  it('is unset by default: the clients trust the default roots only', () => {
    expect(loadConfig({ env: {} }).companyCa).toBeUndefined();
  });

  it('reads every certificate of a PEM bundle and trusts them besides the default roots', () => {
    const bundle = file('bundle.pem', `# company roots\n${caPem}\n${otherCaPem}`);
    const ca = loadConfig({ env: { SHEPHERD_CA_FILE: bundle } }).companyCa!;
    expect(ca.file).toBe(bundle);
    expect(ca.certificates.map((c) => new X509Certificate(c).fingerprint256)).toEqual([
      new X509Certificate(caPem).fingerprint256,
      new X509Certificate(otherCaPem).fingerprint256,
    ]);
    expect(ca.trusted).toEqual([...rootCertificates, ...ca.certificates]);
  });

  it('resolves a relative path against the working directory', () => {
    file('relative.pem', caPem);
    expect(loadConfig({ env: { SHEPHERD_CA_FILE: 'relative.pem' }, cwd: dir }).companyCa?.file).toBe(
      join(dir, 'relative.pem'),
    );
  });

  it('a file that does not exist is a configuration problem naming the path', () => {
    expect(problemOf({ SHEPHERD_CA_FILE: join(dir, 'nope.pem') })).toBe(
      `names ${join(dir, 'nope.pem')}, which does not exist: give the path of your company CA bundle (PEM)`,
    );
  });

  it('a folder is a configuration problem', () => {
    mkdirSync(join(dir, 'certs'), { recursive: true });
    expect(problemOf({ SHEPHERD_CA_FILE: join(dir, 'certs') })).toContain('which is a folder');
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file is a configuration problem', () => {
    const path = file('locked.pem', caPem);
    chmodSync(path, 0o000);
    expect(problemOf({ SHEPHERD_CA_FILE: path })).toContain('which this user may not read (EACCES)');
  });

  it('a file without a PEM certificate (DER, a key, text) is a configuration problem that says how to convert', () => {
    const der = new X509Certificate(caPem).raw;
    const path = join(dir, 'ca.cer');
    writeFileSync(path, der);
    const problem = problemOf({ SHEPHERD_CA_FILE: path });
    expect(problem).toContain('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
    expect(problem).toContain('openssl x509 -inform der');
    expect(
      problemOf({
        SHEPHERD_CA_FILE: file('key.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      }),
    ).toContain('holds no PEM certificate');
  });

  it('a PEM block that is not a certificate is a configuration problem naming which one', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
    expect(problemOf({ SHEPHERD_CA_FILE: file('broken.pem', `${caPem}${broken}`) })).toContain(
      'whose certificate 2 is not a valid X.509 certificate',
    );
  });

  it('is reported with the other problems, all at once', () => {
    try {
      loadConfig({ env: { SHEPHERD_CA_FILE: join(dir, 'nope.pem'), SHEPHERD_TEMPORAL_PORT: 'x' } });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
        'SHEPHERD_CA_FILE',
        'SHEPHERD_TEMPORAL_PORT',
      ]);
    }
  });
});

describe('the Temporal connection with SHEPHERD_CA_FILE', () => {
  const tlsOf = (env: Record<string, string>) => {
    const config = loadConfig({ env: { TEMPORAL_ADDRESS: 'temporal.example:7233', ...env } });
    return tlsConfig(targetFrom(config.temporal, 'temporal.example:7233'));
  };

  it('checks the frontend against the default roots plus the company CA when TEMPORAL_TLS is on', () => {
    const tls = tlsOf({ TEMPORAL_TLS: 'true', SHEPHERD_CA_FILE: file('temporal-ca.pem', caPem) });
    const roots = Buffer.from(tls?.serverRootCACertificate ?? []).toString('utf8');
    expect(roots).toContain(caPem.trim());
    expect(roots).toContain(rootCertificates[0]!.trim());
  });

  it('leaves TEMPORAL_TLS_CA_PATH in charge when it is set: it replaces the roots for a private Temporal CA', () => {
    const own = file('own-temporal-ca.pem', otherCaPem);
    const tls = tlsOf({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_CA_PATH: own, SHEPHERD_CA_FILE: file('c.pem', caPem) });
    expect(Buffer.from(tls?.serverRootCACertificate ?? []).toString('utf8')).toBe(otherCaPem);
  });

  it('does not turn TLS on for Temporal by itself', () => {
    expect(tlsOf({ SHEPHERD_CA_FILE: file('d.pem', caPem) })).toBeUndefined();
  });
});
