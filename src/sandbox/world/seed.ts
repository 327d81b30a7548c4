/**
 * Seeds the simulated GitLab with the two projects of the real installation: `example-app` (pom.xml, Jenkinsfile,
 * deployment/app.cue) and `k8s-deployments` (main with CUE templates and scripts; env branches dev, stage and prod,
 * each main's tree plus a real env.cue and generated manifests, all on the same initial image).
 */
import type { GitLabModel } from '../gitlab/index.js';
import { ENV_VALUES, manifestPath, renderAppCue, renderEnvCue, renderManifest, renderPom } from './deployments-repo.js';
import type { WorldLayout } from './layout.js';

export interface SeedResult {
  /** The image every environment runs at the start (built from the app repo's initial commit). */
  readonly initialImage: string;
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

export function seedRepositories(gitlab: GitLabModel, layout: WorldLayout): SeedResult {
  gitlab.addUser({ username: 'jenkins', name: 'Jenkins CI', email: 'jenkins@local' });
  gitlab.createProject({
    path: layout.appProject,
    description: 'Quarkus service deployed by the GitOps pipeline',
    files: {
      'pom.xml': renderPom(layout.app, layout.initialVersion),
      Jenkinsfile: JENKINSFILE,
      'deployment/app.cue': renderAppCue(layout.app),
      'src/main/java/com/example/GreetingResource.java': 'package com.example;\n\npublic class GreetingResource {}\n',
      'README.md': `# ${layout.app}\n`,
    },
  });
  const appHead = gitlab.branchHead(layout.appProject, 'main')!;
  const initialTag = `${layout.initialVersion}-${appHead.slice(0, 7)}`;
  const initialImage = `${layout.registryExternal}/${layout.group}/${layout.app}:${initialTag}`;

  gitlab.createProject({
    path: layout.deploymentsProject,
    description: 'CUE templates, manifests and pipelines; one branch per environment',
    files: {
      'cue.mod/module.cue': 'module: "deployments.local/k8s-deployments"\nlanguage: version: "v0.9.0"\n',
      [`services/apps/${layout.app}.cue`]: renderAppCue(layout.app),
      'services/base/base.cue': 'package base\n',
      'example-env.cue': renderEnvCue(
        layout.app,
        { ...ENV_VALUES.dev, namespace: 'dev' },
        `REGISTRY_URL_NOT_SET/${layout.group}/${layout.app}:IMAGE_TAG_NOT_SET`,
      ),
      'env.cue': 'package envs\n',
      'scripts/update-app-image.sh':
        '#!/usr/bin/env bash\n# update-app-image.sh <env> <app> <image>\nset -euo pipefail\n',
      'scripts/generate-manifests.sh': '#!/usr/bin/env bash\n# generate-manifests.sh <env>\nset -euo pipefail\n',
      'scripts/create-gitlab-mr.sh':
        '#!/usr/bin/env bash\n# create-gitlab-mr.sh <source> <target> <title> <description>\nset -euo pipefail\n',
      'jenkins/pipelines/Jenkinsfile.promote':
        "pipeline {\n  parameters {\n    string(name: 'APP_NAME', defaultValue: 'example-app')\n    choice(name: 'SOURCE_ENV', choices: ['dev', 'stage'])\n    choice(name: 'TARGET_ENV', choices: ['stage', 'prod'])\n    string(name: 'IMAGE_TAG', defaultValue: '', trim: true)\n  }\n}\n",
      Jenkinsfile:
        "pipeline {\n  stages { stage('Validate') { steps { sh 'cue vet ./...' } } stage('Generate Manifests') { steps { sh './scripts/generate-manifests.sh ${BRANCH_NAME}' } } }\n}\n",
    },
  });
  for (const env of ['dev', 'stage', 'prod'] as const) {
    const e = layout.environments[env];
    const values = { ...ENV_VALUES[env], namespace: e.namespace };
    gitlab.createBranch(layout.deploymentsProject, e.branch, 'main');
    // As in the real installation: changes reach an environment branch only through merge requests.
    gitlab.protectBranch(layout.deploymentsProject, e.branch);
    gitlab.commit(layout.deploymentsProject, {
      branch: e.branch,
      message: `Bootstrap ${env} environment`,
      actions: [
        { action: 'update', filePath: 'env.cue', content: Buffer.from(renderEnvCue(layout.app, values, initialImage)) },
        {
          action: 'create',
          filePath: manifestPath(layout.app),
          content: Buffer.from(renderManifest(layout.app, values, initialImage)),
        },
      ],
    });
  }
  return { initialImage };
}
