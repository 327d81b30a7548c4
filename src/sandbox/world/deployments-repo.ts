/**
 * The files of the simulated `k8s-deployments` and `example-app` repositories, and the two edits the real pipeline
 * makes to them: `update-app-image.sh` (rewrite the image line of one app in one environment's `env.cue`) and
 * `generate-manifests.sh` (render `manifests/<cueApp>/<cueApp>.yaml` from the environment's values).
 * Pure functions: no model, no I/O.
 */
import { stringify } from 'yaml';
import { buildDeployment } from '../kubernetes/seed-objects.js';

/** Per-environment values of the real installation (real-system.md §1.6). */
export interface EnvValues {
  readonly env: string;
  readonly namespace: string;
  readonly replicas: number;
  readonly debug: boolean;
  readonly logLevel: string;
  readonly cpu: readonly [request: string, limit: string];
  readonly memory: readonly [request: string, limit: string];
}

export const ENV_VALUES: Readonly<Record<'dev' | 'stage' | 'prod', Omit<EnvValues, 'namespace'>>> = {
  dev: { env: 'dev', replicas: 1, debug: true, logLevel: 'DEBUG', cpu: ['100m', '500m'], memory: ['256Mi', '512Mi'] },
  stage: {
    env: 'stage',
    replicas: 2,
    debug: false,
    logLevel: 'INFO',
    cpu: ['200m', '1000m'],
    memory: ['512Mi', '1Gi'],
  },
  prod: { env: 'prod', replicas: 3, debug: false, logLevel: 'WARN', cpu: ['500m', '2000m'], memory: ['1Gi', '2Gi'] },
};

/**
 * `example-app` → `exampleApp`, as update-app-image.sh derives the CUE id. Deliberately the sandbox's own copy of
 * the rule Shepherd keeps in `src/domain/pipeline.ts`: the simulated installation checks Shepherd independently.
 */
export function cueIdOf(app: string): string {
  return app.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** An environment branch's `env.cue`. */
export function renderEnvCue(app: string, values: EnvValues, image: string): string {
  const cue = cueIdOf(app);
  return [
    'package envs',
    '',
    'import "deployments.local/k8s-deployments/services/apps"',
    '',
    `${values.env}: ${cue}: apps.${cue} & {`,
    '\tappConfig: {',
    `\t\tnamespace: "${values.namespace}"`,
    `\t\tlabels: environment: "${values.env}"`,
    `\t\tdebug: ${values.debug}`,
    '\t\tdeployment: {',
    `\t\t\timage:    "${image}"`,
    `\t\t\treplicas: ${values.replicas}`,
    '\t\t\tresources: {',
    `\t\t\t\trequests: {cpu: "${values.cpu[0]}", memory: "${values.memory[0]}"}`,
    `\t\t\t\tlimits: {cpu: "${values.cpu[1]}", memory: "${values.memory[1]}"}`,
    '\t\t\t}',
    `\t\t\tadditionalEnv: [{name: "QUARKUS_LOG_LEVEL", value: "${values.logLevel}"}]`,
    '\t\t}',
    '\t}',
    '}',
    '',
  ].join('\n');
}

export class EnvCueError extends Error {}

/** Finds the lines of the `{env}: {cueApp}:` block. */
function appBlock(lines: string[], env: string, cue: string): [start: number, end: number] {
  const start = lines.findIndex((l) => l.startsWith(`${env}: ${cue}:`));
  if (start < 0) throw new EnvCueError(`${env}.${cue} not found in env.cue`);
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    depth += (lines[i]!.match(/\{/g) ?? []).length - (lines[i]!.match(/\}/g) ?? []).length;
    if (depth === 0 && i > start) return [start, i];
  }
  return [start, lines.length - 1];
}

/** The image an environment's `env.cue` declares for the app. */
export function imageInEnvCue(text: string, env: string, app: string): string {
  const lines = text.split('\n');
  const [start, end] = appBlock(lines, env, cueIdOf(app));
  for (let i = start; i <= end; i++) {
    const m = /^\s*image:\s*"([^"]*)"/.exec(lines[i]!);
    if (m) return m[1]!;
  }
  throw new EnvCueError(`${env}.${cueIdOf(app)} has no image in env.cue`);
}

/**
 * update-app-image.sh: rewrites the image line inside the `{env}: {cueApp}:` block. Returns the text unchanged when
 * the image is already equal; refuses unless exactly one image line is in the block.
 */
export function setImageInEnvCue(text: string, env: string, app: string, image: string): string {
  const lines = text.split('\n');
  const [start, end] = appBlock(lines, env, cueIdOf(app));
  const hits: number[] = [];
  for (let i = start; i <= end; i++) if (/^\s*image:\s*"/.test(lines[i]!)) hits.push(i);
  if (hits.length !== 1)
    throw new EnvCueError(`expected exactly one image line for ${env}.${cueIdOf(app)}, found ${hits.length}`);
  const at = hits[0]!;
  lines[at] = lines[at]!.replace(/"[^"]*"/, `"${image}"`);
  return lines.join('\n');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** generate-manifests.sh: the app's rendered manifest (Deployment, then Service) with sorted keys. */
export function renderManifest(app: string, values: EnvValues, image: string): string {
  const deployment = buildDeployment({
    app,
    env: values.env,
    namespace: values.namespace,
    image,
    replicas: values.replicas,
  });
  const container = deployment.spec.template.spec.containers[0]!;
  (container as { resources?: unknown }).resources = {
    requests: { cpu: values.cpu[0], memory: values.memory[0] },
    limits: { cpu: values.cpu[1], memory: values.memory[1] },
  };
  (container as { env?: unknown }).env = [
    { name: 'ENVIRONMENT', value: values.env },
    { name: 'QUARKUS_LOG_LEVEL', value: values.logLevel },
  ];
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: app, namespace: values.namespace, labels: { app, environment: values.env } },
    spec: {
      selector: { app, deployment: app },
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
    },
  };
  return `${stringify(sortKeys(deployment))}---\n${stringify(sortKeys(service))}`;
}

export function manifestPath(app: string): string {
  const cue = cueIdOf(app);
  return `manifests/${cue}/${cue}.yaml`;
}

/** The app repo's `pom.xml`; the first `<version>` is the app version, as in the real repo. */
export function renderPom(app: string, version: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>com.example</groupId>',
    `  <artifactId>${app}</artifactId>`,
    `  <version>${version}</version>`,
    '  <packaging>jar</packaging>',
    '  <properties>',
    '    <quarkus.platform.version>3.8.1</quarkus.platform.version>',
    '  </properties>',
    '</project>',
    '',
  ].join('\n');
}

/** The first `<version>` of a pom.xml, or undefined. */
export function versionInPom(pom: string): string | undefined {
  return /<version>\s*([^<\s]+)\s*<\/version>/.exec(pom.replace(/<parent>[\s\S]*?<\/parent>/, ''))?.[1];
}

/** The app team's CUE config (`deployment/app.cue`), copied to `services/apps/<app>.cue` by CI. */
export function renderAppCue(app: string): string {
  const cue = cueIdOf(app);
  return [
    'package apps',
    '',
    `${cue}: {`,
    `\tappName: "${app}"`,
    '\tappConfig: {',
    '\t\tdeployment: {',
    '\t\t\tport: 8080',
    '\t\t\tlivenessProbe: httpGet: path: "/health/live"',
    '\t\t\treadinessProbe: httpGet: path: "/health/ready"',
    '\t\t}',
    '\t}',
    '\tresources_list: ["deployment", "service"]',
    '}',
    '',
  ].join('\n');
}
