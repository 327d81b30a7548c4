/**
 * Seeds the simulated GitLab with the projects of the installation: per app its repo (its version file, Jenkinsfile,
 * `deployment/app.cue` when its image is declared in CUE) and the deployments repo (main with CUE templates and
 * scripts; per environment its branch, or its directory on a shared branch, holding every app's image declarations,
 * all on each app's initial image). The seed's installation: `example-app` (pom.xml) and `k8s-deployments` with env
 * branches dev, stage and prod, each holding env.cue and the generated manifest.
 */
import type { GitLabModel } from '../gitlab/index.js';
import { ENV_VALUES, renderAppCue, renderEnvCue } from './deployments-repo.js';
import { initialFiles } from './image-declarations.js';
import type { WorldApp, WorldLayout } from './layout.js';
import { buildCommand, renderVersionFile } from './version-files.js';

export interface SeedResult {
  /** The image every environment runs at the start, per app (built from its repo's initial commit). */
  readonly initialImages: Readonly<Record<string, string>>;
}

const JENKINSFILE = `pipeline {
  agent { kubernetes { yamlFile 'jenkins-agent.yaml' } }
  options { timeout(time: 1, unit: 'HOURS'); disableConcurrentBuilds(); buildDiscarder(logRotator(numToKeepStr: '10')) }
  parameters { booleanParam(name: 'SKIP_INTEGRATION_TESTS', defaultValue: false) }
  stages {
    stage('Checkout & Setup') { steps { checkout scm } }
    stage('Unit Tests') { steps { sh 'mvn -B test' } }
    stage('Integration Tests') { when { expression { !params.SKIP_INTEGRATION_TESTS } } steps { sh 'mvn -B verify -DskipUnitTests' } }
    stage('Build & Publish') { steps { sh 'mvn -B package jib:build' } }
    stage('Update Dev Environment') { steps { script { deployToEnvironment('dev') } } }
  }
}
`;

/** The Jenkinsfile of an app that is not the seed's Maven service: the same stages with its build tool. */
function jenkinsfileOf(app: WorldApp): string {
  return JENKINSFILE.replace(/mvn -B package jib:build/, buildCommand(app.versionFormat))
    .replace(/mvn -B test/, 'make test')
    .replace(/mvn -B verify -DskipUnitTests/, 'make integration-test');
}

function appFiles(app: WorldApp): Record<string, string> {
  const cue = app.declarations.some((d) => d.format === 'cue');
  return {
    ...(app.versionFormat !== 'none'
      ? { [app.versionFile!]: renderVersionFile(app.versionFormat, app.app, app.initialVersion) }
      : {}),
    Jenkinsfile: app.versionFormat === 'maven' ? JENKINSFILE : jenkinsfileOf(app),
    ...(cue ? { 'deployment/app.cue': renderAppCue(app.app) } : {}),
    ...(app.versionFormat === 'maven' || app.versionFormat === 'gradle'
      ? {
          'src/main/java/com/example/GreetingResource.java':
            'package com.example;\n\npublic class GreetingResource {}\n',
        }
      : { 'src/index.js': `export const service = '${app.app}';\n` }),
    'README.md': `# ${app.app}\n`,
  };
}

/** The promote job's Jenkinsfile parameters, in the pipeline's names and environments. */
function promoteJenkinsfile(layout: WorldLayout): string {
  const p = layout.promoteParameters;
  const order = layout.environmentOrder;
  const list = (envs: readonly string[]): string => envs.map((e) => `'${e}'`).join(', ');
  return `pipeline {\n  parameters {\n    string(name: '${p.app}', defaultValue: '${layout.app}')\n    choice(name: '${p.source}', choices: [${list(order.slice(0, -1))}])\n    choice(name: '${p.target}', choices: [${list(order.slice(1))}])\n    string(name: '${p.tag}', defaultValue: '', trim: true)\n  }\n}\n`;
}

export function seedRepositories(gitlab: GitLabModel, layout: WorldLayout): SeedResult {
  gitlab.addUser({ username: 'jenkins', name: 'Jenkins CI', email: 'jenkins@local' });
  const initialImages: Record<string, string> = {};
  for (const app of layout.apps) {
    gitlab.createProject({
      path: app.appProject,
      description:
        app.versionFormat === 'maven'
          ? 'Quarkus service deployed by the GitOps pipeline'
          : `${app.app}: a service deployed by the GitOps pipeline`,
      files: appFiles(app),
    });
    const head = gitlab.branchHead(app.appProject, 'main')!;
    initialImages[app.app] =
      `${app.registryExternal}/${app.group}/${app.app}:${app.initialVersion}-${head.slice(0, 7)}`;
  }
  const first = layout.apps[0]!;
  const cueApps = layout.apps.filter((a) => a.declarations.some((d) => d.format === 'cue'));

  gitlab.createProject({
    path: layout.deploymentsProject,
    description: 'CUE templates, manifests and pipelines; one branch per environment',
    files: {
      'cue.mod/module.cue': 'module: "deployments.local/k8s-deployments"\nlanguage: version: "v0.9.0"\n',
      ...Object.fromEntries(cueApps.map((a) => [`services/apps/${a.app}.cue`, renderAppCue(a.app)])),
      'services/base/base.cue': 'package base\n',
      ...(cueApps[0] === first
        ? {
            'example-env.cue': renderEnvCue(
              first.app,
              { ...ENV_VALUES.dev, namespace: 'dev' },
              `REGISTRY_URL_NOT_SET/${first.group}/${first.app}:IMAGE_TAG_NOT_SET`,
            ),
          }
        : {}),
      'env.cue': 'package envs\n',
      'scripts/update-app-image.sh':
        '#!/usr/bin/env bash\n# update-app-image.sh <env> <app> <image>\nset -euo pipefail\n',
      'scripts/generate-manifests.sh': '#!/usr/bin/env bash\n# generate-manifests.sh <env>\nset -euo pipefail\n',
      'scripts/create-gitlab-mr.sh':
        '#!/usr/bin/env bash\n# create-gitlab-mr.sh <source> <target> <title> <description>\nset -euo pipefail\n',
      'jenkins/pipelines/Jenkinsfile.promote': promoteJenkinsfile(layout),
      Jenkinsfile:
        "pipeline {\n  stages { stage('Validate') { steps { sh 'cue vet ./...' } } stage('Generate Manifests') { steps { sh './scripts/generate-manifests.sh ${BRANCH_NAME}' } } }\n}\n",
    },
  });
  for (const env of layout.environmentOrder) {
    const branch = layout.environments[env]!.branch;
    if (gitlab.branchHead(layout.deploymentsProject, branch) === undefined) {
      gitlab.createBranch(layout.deploymentsProject, branch, 'main');
      // As in the real installation: changes reach an environment branch only through merge requests.
      gitlab.protectBranch(layout.deploymentsProject, branch);
    }
    const written = new Map<string, string>();
    const read = (path: string): string | undefined =>
      written.get(path) ?? gitlab.readFile(layout.deploymentsProject, branch, path);
    for (const app of layout.apps)
      for (const f of initialFiles({ app, order: layout.environmentOrder, env, image: initialImages[app.app]!, read }))
        written.set(f.path, f.content);
    gitlab.commit(layout.deploymentsProject, {
      branch,
      message: `Bootstrap ${env} environment`,
      actions: [...written].map(([filePath, content]) => ({
        action:
          gitlab.readFile(layout.deploymentsProject, branch, filePath) === undefined
            ? ('create' as const)
            : ('update' as const),
        filePath,
        content: Buffer.from(content),
      })),
    });
  }
  return { initialImages };
}
