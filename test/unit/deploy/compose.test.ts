/**
 * docker-compose.yml without Docker: it is valid against the compose specification's JSON schema (the copy that
 * ships in the dclint package, read from node_modules), and it has what the stack needs: PostgreSQL with a health
 * check and a named volume, the Temporal schema job, the server, the namespace/search-attribute job, the Web UI on
 * 8080, and Shepherd's worker built from ./Dockerfile with deploy/shepherd.env, started in the right order.
 * deploy/shepherd.env.example is checked against Shepherd's configuration table and loads as a valid config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { INFRA_ENV_PASSTHROUGH, VARIABLES, VARIABLE_BY_NAME } from '../../../src/config/variables.js';
import { SEARCH_ATTRIBUTES } from '../../../src/temporal/common/search-attributes.js';
import { BUNDLE_PATH } from '../../../src/worker/workflow-source.js';
import { PROJECT_ROOT } from '../../../src/config/paths.js';

const ROOT = PROJECT_ROOT;
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

// ajv-formats is CommonJS: under NodeNext TypeScript types its default import as the exports object, while at
// run time that object is the plugin function itself.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Dict = Record<string, unknown>;
interface Service extends Dict {
  image?: string;
  build?: { context?: string; dockerfile?: string; target?: string };
  environment?: Record<string, string> | string[];
  env_file?: string | Array<string | { path: string }>;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[]; interval?: string; retries?: number; disable?: boolean };
  ports?: Array<string | number | Dict>;
  volumes?: Array<string | { type?: string; source?: string; target?: string; read_only?: boolean }>;
  restart?: string;
  entrypoint?: string | string[];
  container_name?: string;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  name?: string;
  version?: string;
  services: Record<string, Service>;
  volumes?: Dict;
};
const services = compose.services;

/** Compose interpolation with the defaults the file states (`${VAR:-default}`, `${VAR}`), nothing set. */
function interpolate(value: string, env: Record<string, string> = {}): string {
  let out = value;
  for (let i = 0; i < 5 && out.includes('${'); i++) {
    out = out.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^${}]*))?\}/g,
      (_m, name: string, def: string | undefined) => env[name] ?? def ?? '',
    );
  }
  return out;
}

function env(s: Service): Record<string, string> {
  const e = s.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => [kv.split('=')[0]!, kv.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, interpolate(String(v))]));
}

function dependsOn(s: Service): Record<string, string | undefined> {
  const d = s.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.condition]));
}

/** Published ports as [host, container] (short syntax `host:container`, with defaults interpolated). */
function published(s: Service): Array<[string, string]> {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return [String(p.published ?? ''), String(p.target)];
    const parts = interpolate(String(p)).split(':');
    return [parts.at(-2) ?? '', parts.at(-1)!];
  });
}

function bindMounts(s: Service): Array<{ source: string; target: string; readOnly: boolean }> {
  return (s.volumes ?? []).flatMap((v) => {
    if (typeof v === 'object')
      return v.type === 'bind'
        ? [{ source: interpolate(v.source ?? ''), target: v.target ?? '', readOnly: v.read_only === true }]
        : [];
    const [source = '', target = '', mode = ''] = v.split(':');
    return source.startsWith('.') || source.startsWith('/') || source.startsWith('~')
      ? [{ source, target, readOnly: mode.split(',').includes('ro') }]
      : [];
  });
}

function healthTest(s: Service): string {
  const t = s.healthcheck?.test;
  return Array.isArray(t) ? t.join(' ') : (t ?? '');
}

describe('docker-compose.yml', () => {
  it('is valid against the compose specification schema (every error reported)', () => {
    const require = createRequire(import.meta.url);
    const schemaPath = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Dict;
    expect(schema.title).toBe('Compose Specification');
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    const errors = (validate.errors ?? []).map(
      (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
    expect(errors, errors.join('\n')).toEqual([]);
    expect(valid).toBe(true);
    // The validator does reject what the specification forbids.
    expect(validate({ services: { x: { image: 'a', healthcheck: { intervall: '5s' } } } })).toBe(false);
  });

  it('uses the compose specification without a legacy top-level version', () => {
    expect(compose.version).toBeUndefined();
    expect(compose.name).toBe('shepherd');
    expect(Object.keys(services).sort()).toEqual([
      'postgresql',
      'shepherd-webhooks',
      'shepherd-worker',
      'temporal',
      'temporal-init',
      'temporal-schema',
      'temporal-ui',
    ]);
  });

  it('runs the webhook receiver from the worker image, published, with a health check of its own', () => {
    const r = services['shepherd-webhooks']!;
    expect(r.image).toBe(services['shepherd-worker']!.image);
    expect(r.command).toEqual(['webhooks']);
    expect(dependsOn(r)).toMatchObject({
      temporal: 'service_healthy',
      'temporal-init': 'service_completed_successfully',
    });
    const e = env(r);
    expect(e['TEMPORAL_ADDRESS']).toBe('temporal:7233');
    const port = Number(e['SHEPHERD_WEBHOOK_ADDRESS']!.split(':').at(-1));
    expect(r.ports).toEqual([`\${SHEPHERD_WEBHOOK_PORT:-${port}}:${port}`]);
    expect(JSON.stringify(r.healthcheck?.test)).toContain(`127.0.0.1:${port}/healthz`);
  });

  it('pins every image to a specific version, Temporal server and admin tools to the same release', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'shepherd-worker' || name === 'shepherd-webhooks') continue;
      expect(s.image, name).toMatch(/^[\w./-]+:\d+\.\d+(\.\d+)?([-.\w]*)$/);
    }
    const version = (image: string | undefined): string | undefined => image?.split(':')[1];
    expect(services.temporal!.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(version(services['temporal-schema']!.image)).toBe(version(services.temporal!.image));
    expect(services['temporal-init']!.image).toBe(services['temporal-schema']!.image);
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(services.postgresql!.image).toMatch(/^postgres:/);
  });

  it('runs PostgreSQL with a health check and its data on a named volume', () => {
    const pg = services.postgresql!;
    expect(healthTest(pg)).toMatch(/pg_isready/);
    expect(pg.volumes).toContain('postgresql-data:/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes ?? {})).toContain('postgresql-data');
    expect(env(pg)).toMatchObject({ POSTGRES_USER: 'temporal', POSTGRES_PASSWORD: 'temporal' });
    expect(pg.restart).toBe('unless-stopped');
  });

  it('sets up the Temporal schema with the postgres12 plugin once PostgreSQL is healthy', () => {
    const job = services['temporal-schema']!;
    expect(dependsOn(job)).toEqual({ postgresql: 'service_healthy' });
    expect(env(job)).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
      POSTGRES_USER: 'temporal',
      SQL_PASSWORD: 'temporal',
    });
    const script = read('deploy/temporal/setup-schema.sh');
    expect(script).toMatch(/--plugin postgres12/);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) expect(script).toContain(step);
    expect(script).toMatch(/temporal_visibility/);
  });

  it('starts the Temporal server on the set-up database, with a health check and port 7233 published', () => {
    const t = services.temporal!;
    expect(dependsOn(t)).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    const e = env(t);
    expect(e).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
      POSTGRES_USER: 'temporal',
      POSTGRES_PWD: 'temporal',
      BIND_ON_IP: '0.0.0.0',
    });
    expect(healthTest(t)).toMatch(/7233/);
    expect(t.healthcheck?.retries).toBeGreaterThan(0);
    expect(published(t)).toContainEqual(['7233', '7233']);
    const dynamic = bindMounts(t).find((m) => m.target === '/etc/temporal/config/dynamicconfig')!;
    expect(dynamic.readOnly).toBe(true);
    const file = join(ROOT, dynamic.source, e.DYNAMIC_CONFIG_FILE_PATH!.replace(/^config\/dynamicconfig\//, ''));
    expect(existsSync(file), file).toBe(true);
    expect(parse(readFileSync(file, 'utf8'))).toBeTypeOf('object');
  });

  it("creates Shepherd's namespace and registers its search attributes once the server is healthy", () => {
    const init = services['temporal-init']!;
    expect(dependsOn(init)).toEqual({ temporal: 'service_healthy' });
    expect(env(init)).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', SHEPHERD_NAMESPACE: 'default' });
    const script = read('deploy/temporal/init-namespace.sh');
    expect(script).toMatch(/temporal operator cluster health/);
    expect(script).toMatch(/temporal operator namespace create/);
    expect(script).toMatch(/search-attribute create .*--type Keyword/);
    const registered = script
      .match(/for name in ([^;]+);/)![1]!
      .trim()
      .split(/\s+/);
    expect(registered.sort()).toEqual(SEARCH_ATTRIBUTES.map((k) => k.name).sort());
  });

  it('serves the Temporal Web UI on port 8080', () => {
    const ui = services['temporal-ui']!;
    expect(env(ui)).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(published(ui)).toContainEqual(['8080', '8080']);
    expect(dependsOn(ui)).toEqual({ temporal: 'service_healthy' });
  });

  it("builds Shepherd's worker from ./Dockerfile, configures it from deploy/shepherd.env and starts it last", () => {
    const w = services['shepherd-worker']!;
    expect(w.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile', target: 'runtime' });
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    expect(read('Dockerfile')).toMatch(/^FROM \S+ AS runtime$/m);
    const envFiles = [w.env_file ?? []].flat().map((f) => (typeof f === 'string' ? f : f.path));
    expect(envFiles).toEqual(['deploy/shepherd.env']);
    expect(existsSync(join(ROOT, 'deploy/shepherd.env.example'))).toBe(true);
    expect(env(w)).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'default',
      NODE_ENV: 'production',
      KUBECONFIG: '/home/node/.kube/config',
    });
    expect(dependsOn(w)).toEqual({ temporal: 'service_healthy', 'temporal-init': 'service_completed_successfully' });
    expect(w.restart).toBe('unless-stopped');
    const kube = bindMounts(w).find((m) => m.target === env(w).KUBECONFIG)!;
    expect(kube).toMatchObject({ readOnly: true });
    expect(kube.source).toMatch(/\.kube\/config$/);
    // Scalable with --scale: no fixed container name, no published port.
    expect(w.container_name).toBeUndefined();
    expect(w.ports).toBeUndefined();
    // Its health check is the image's (Dockerfile HEALTHCHECK), not switched off here.
    expect(w.healthcheck?.disable).not.toBe(true);
  });

  it('mounts only files that exist in the repository, read-only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const m of bindMounts(s)) {
        if (!m.source.startsWith('.')) continue;
        expect(existsSync(resolve(ROOT, m.source)), `${name}: ${m.source}`).toBe(true);
        expect(m.readOnly, `${name}: ${m.source}`).toBe(true);
      }
    }
    for (const s of ['temporal-schema', 'temporal-init']) {
      const entry = [services[s]!.entrypoint ?? []].flat();
      const target = entry.at(-1)!;
      expect(
        bindMounts(services[s]!).map((m) => m.target),
        s,
      ).toContain(target);
    }
  });
});

describe('deploy/shepherd.env.example', () => {
  const text = read('deploy/shepherd.env.example');
  const set = new Map<string, string>();
  const mentioned = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) set.set(m[1]!, m[2]!);
    for (const name of line.match(/\b[A-Z][A-Z0-9_]{3,}\b/g) ?? []) mentioned.add(name);
  }
  const composeSets = Object.keys(env(services['shepherd-worker']!));

  it('sets only variables Shepherd knows, none that docker-compose.yml sets itself', () => {
    const known = new Set<string>([...VARIABLE_BY_NAME.keys(), ...INFRA_ENV_PASSTHROUGH]);
    for (const name of set.keys()) expect(known.has(name), name).toBe(true);
    for (const name of composeSets) expect(set.has(name), name).toBe(false);
    expect(set.size).toBeGreaterThan(10);
  });

  it('mentions every variable of the configuration table', () => {
    const missing = VARIABLES.map((v) => v.name).filter((n) => !mentioned.has(n));
    expect(missing).toEqual([]);
  });

  it('has placeholders, never real-looking values, for secrets', () => {
    for (const v of VARIABLES.filter((x) => x.secret)) {
      const value = set.get(v.name);
      if (value !== undefined) expect(value, v.name).toMatch(/^replace-/);
      const commented = new RegExp(`^# ${v.name}=(.*)$`, 'm').exec(text);
      if (commented) expect(commented[1], v.name).toMatch(/replace/);
    }
  });

  it('loads as a valid external configuration together with what docker-compose.yml sets', () => {
    const config = loadConfig({ env: { ...Object.fromEntries(set), ...env(services['shepherd-worker']!) } });
    expect(config.mode).toBe('external');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.gitlab?.token.reveal()).toMatch(/^replace-/);
    expect(config.jenkins?.user).toBe('shepherd');
    expect(config.kubernetes.kubeconfig).toBe('/home/node/.kube/config');
  });

  it('stays out of git and out of the image build context', () => {
    expect(read('deploy/.gitignore').split('\n')).toContain('shepherd.env');
    expect(read('.dockerignore')).toMatch(/^\*\*\/\*\.env$/m);
  });
});

it('the worker image loads the workflow bundle from dist/, where the Dockerfile builds it', () => {
  expect(BUNDLE_PATH).toBe(join(ROOT, 'dist', 'workflow-bundle.js'));
});
