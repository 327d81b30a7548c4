/**
 * The worker image's Dockerfile, read without Docker: multi-stage on a glibc Node LTS base supported through 2027,
 * private CAs through NODE_EXTRA_CA_CERTS documented, the TypeScript build and
 * the workflow bundle made in the build stage, production dependencies only at run time, a non-root user, the
 * worker as the default command with a health check. Also: every package the runtime code imports is a runtime
 * dependency (the image installs with --omit=dev), and the build context leaves secrets and local state out.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/config/paths.js';

const ROOT = PROJECT_ROOT;
const read = (rel: string): string => readFileSync(join(ROOT, rel), 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
}
interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly body: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined, ARG values substituted in FROM. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && pending === '') continue;
    if (/^\s*#/.test(raw)) continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full) logical.push(full);
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const l of logical) {
    const [op = '', ...rest] = l.split(/\s+/);
    const ins = { op: op.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'ARG' && stages.length === 0) {
      const [k, v = ''] = ins.args.split('=');
      args[k!] = v;
    } else if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const base = m[1]!.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_x, a: string | undefined, b: string | undefined) => args[(a ?? b)!] ?? '',
      );
      stages.push({ base, name: m[2], body: [] });
    } else {
      stages.at(-1)?.body.push(ins);
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const { stages } = dockerfile;
const final = stages.at(-1)!;
const runs = (s: Stage): string[] => s.body.filter((i) => i.op === 'RUN').map((i) => i.args);
const last = (s: Stage, op: string): Instruction | undefined => s.body.filter((i) => i.op === op).at(-1);

describe('Dockerfile', () => {
  it('is multi-stage: a build stage and a runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['build', 'runtime']));
    expect(final.name).toBe('runtime');
  });

  it('uses a pinned Node LTS supported through 2027, with glibc (Debian slim), never Alpine/musl, in every stage', () => {
    // End of support of the Node lines package.json's engines allow (nodejs.org/en/about/previous-releases).
    const endOfLife: Record<string, string> = { '20': '2026-04-30', '22': '2027-04-30', '24': '2028-04-30' };
    for (const s of stages) {
      const m = /^node:(\d+)\.\d+\.\d+-(bookworm|trixie)(-slim)?$/.exec(s.base);
      expect(m, s.base).not.toBeNull();
      expect(s.base).not.toMatch(/alpine/);
      expect(endOfLife[m![1]!], `Node ${m![1]}`).toBeDefined();
      expect(endOfLife[m![1]!]! >= '2027-12-31', `Node ${m![1]} ends ${endOfLife[m![1]!]}`).toBe(true);
      const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
      expect(engines).toContain(`^${m![1]}.`);
    }
  });

  it('documents private CA support through NODE_EXTRA_CA_CERTS, and does not bake a CA or the variable in', () => {
    const comments = read('Dockerfile')
      .split('\n')
      .filter((l) => l.trimStart().startsWith('#'))
      .join('\n');
    expect(comments).toMatch(/NODE_EXTRA_CA_CERTS/);
    expect(comments).toMatch(/TEMPORAL_TLS_CA_PATH/);
    for (const s of stages) expect(s.body.filter((i) => /NODE_EXTRA_CA_CERTS/.test(i.args))).toEqual([]);
  });

  it('compiles TypeScript and builds the workflow bundle in the build stage', () => {
    const build = stages.find((s) => s.name === 'build')!;
    const cmds = runs(build).join(' && ');
    expect(cmds).toMatch(/npm ci\b/);
    expect(cmds).toMatch(/npm run build(\s|$)/);
    expect(cmds).toMatch(/npm run build:bundle\b/);
    // The scripts it runs exist and build what the worker loads.
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBe('node scripts/build.mjs');
    expect(read('scripts/build.mjs')).toMatch(/tsconfig\.build\.json/);
    expect(pkg.scripts['build:bundle']).toMatch(/scripts\/build-workflow-bundle\.ts/);
    // The build stage has what those scripts read.
    const copied = build.body.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).slice(0, -1).join(' '));
    for (const need of [
      'package-lock.json',
      'tsconfig.build.json',
      'src',
      'workflows',
      'activities',
      'bin',
      'scripts/build.mjs',
      'scripts/build-workflow-bundle.ts',
    ]) {
      expect(copied.join(' '), need).toContain(need);
    }
  });

  it('installs production dependencies only at run time and takes dist/ (with the bundle) from the build', () => {
    expect(runs(final).join(' ')).toMatch(/npm ci\b[^&]*--omit=dev/);
    const fromBuild = final.body.filter((i) => i.op === 'COPY' && i.args.startsWith('--from=build'));
    expect(fromBuild.map((i) => i.args)).toContainEqual(expect.stringMatching(/^--from=build \/app\/dist \.\/dist$/));
    expect(final.body.some((i) => i.op === 'WORKDIR' && i.args === '/app')).toBe(true);
    expect(final.body.some((i) => i.op === 'ENV' && /\bNODE_ENV=production\b/.test(i.args))).toBe(true);
  });

  it('runs as a non-root user, the worker by default, with a health check', () => {
    const user = last(final, 'USER');
    expect(user?.args).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user!.args);
    const idx = (op: string): number => final.body.findIndex((i) => i.op === op);
    expect(final.body.lastIndexOf(user!)).toBeLessThan(idx('ENTRYPOINT'));
    expect(JSON.parse(last(final, 'ENTRYPOINT')!.args)).toEqual(['node', 'bin/shepherd.js']);
    expect(JSON.parse(last(final, 'CMD')!.args)).toEqual(['worker']);
    const health = last(final, 'HEALTHCHECK')!.args;
    expect(health).toMatch(/--interval=\S+/);
    expect(health).toMatch(/--timeout=\S+/);
    const cmd = JSON.parse(health.slice(health.indexOf('CMD') + 3).trim()) as string[];
    expect(cmd).toEqual(['node', 'deploy/healthcheck.mjs']);
    expect(final.body.some((i) => i.op === 'COPY' && i.args.includes('deploy/healthcheck.mjs'))).toBe(true);
  });

  it('copies from the build context only files that exist and that .dockerignore lets through', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const s of stages) {
      for (const i of s.body.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
        for (const src of i.args.split(/\s+/).slice(0, -1)) {
          expect(existsSync(join(ROOT, src)), src).toBe(true);
          expect(ignored, src).not.toContain(src.split('/')[0]);
        }
      }
    }
    for (const must of ['node_modules', 'dist', '.shepherd', '.git', '**/*.env']) expect(ignored).toContain(must);
  });
});

/** Bare module specifiers that code run by the image imports at run time (type-only imports excluded). */
function runtimeImports(files: string[]): Map<string, string> {
  const found = new Map<string, string>();
  const re =
    /^\s*import\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|^\s*export\s+(?!type\s)[^'"]*?\sfrom\s+['"]([^'"]+)['"]/gm;
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(re)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!found.has(name)) found.set(name, relative(ROOT, file));
    }
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|mts|js|mjs)$/.test(entry) && !/\.test\.ts$/.test(entry) ? [p] : [];
  });
}

it('the runtime code imports only dependencies, never devDependencies (the image omits them)', () => {
  const pkg = JSON.parse(read('package.json')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const files = [
    ...['src', 'workflows', 'activities'].flatMap((d) => sources(join(ROOT, d))),
    join(ROOT, 'bin/shepherd.js'),
    join(ROOT, 'deploy/healthcheck.mjs'),
  ];
  const imports = runtimeImports(files);
  expect(imports.has('@temporalio/worker')).toBe(true);
  const notRuntime = [...imports]
    .filter(([name]) => !(name in pkg.dependencies))
    .map(([name, file]) => `${name} (imported by ${file})`);
  expect(notRuntime).toEqual([]);
  expect(pkg.devDependencies).toHaveProperty('@temporalio/testing');
  expect(pkg.dependencies).not.toHaveProperty('@temporalio/testing');
});
