/** Pipeline files the world-pipeline tests build worlds from (as `--pipeline FILE` would give them). */

/** Four environments as directories of one branch, one app whose image is in a kustomization. */
export const FOUR_DIRECTORIES = `
name: four-directories
deployments: { project: shop/deployments, branch: main }
registry: { host: registry.shop.local, group: shop }
environments:
  - { name: qa, directory: envs/qa }
  - { name: uat, directory: envs/uat }
  - { name: preprod, directory: envs/preprod, namespace: shop-preprod }
  - { name: live, directory: envs/live, namespace: shop-live }
apps:
  - name: catalog
    project: shop/catalog
    ci: { job: shop/catalog/main }
    version: { format: plain }
    image: [{ format: kustomize, file: kustomization.yaml }]
`;

/**
 * Two apps on dev, test and prod branches: a Maven app with Helm values, an npm app with plain YAML; the promote job,
 * its parameters and the branch templates renamed.
 */
export const TWO_APPS = `
name: two-apps
environments:
  - { name: dev }
  - { name: test }
  - { name: prod }
apps:
  - name: orders
    version: { format: maven }
    image: [{ format: helm, file: '{app}/values.yaml', key: image.tag, repositoryKey: image.repository }]
  - name: web
    version: { format: npm }
    image: [{ format: yaml, file: 'manifests/{app}.yaml' }]
promotion:
  mode: jenkins
  job: deploy/promote
  parameters: { app: SERVICE, source: FROM_ENV, target: TO_ENV, tag: VERSION_TAG }
  branches: { dev: 'ci/{app}-{tag}', promotion: 'release/{target}/{app}-{tag}' }
`;

/** One app per remaining version format. */
export const VERSION_FORMATS = `
name: version-formats
environments: [{ name: dev }, { name: prod }]
apps:
  - { name: gradle-app, version: { format: gradle }, image: [{ format: yaml, file: '{app}.yaml' }] }
  - { name: plain-app, version: { format: plain, file: version.txt }, image: [{ format: yaml, file: '{app}.yaml' }] }
  - { name: bare-app, version: { format: none }, image: [{ format: yaml, file: '{app}.yaml' }] }
`;
