/**
 * The image declarations of the deployments repo, in each format teams use, as their scripts write and edit them:
 * the seed's `env.cue` plus the manifest generated from it, a container's `image` in plain Kubernetes YAML, a
 * kustomization's `images:` entry (`newTag`), and a key path of Helm values. Edits keep the files' comments and
 * formatting (the YAML is edited as a document, not re-serialised from data). Pure functions: no model, no I/O.
 * Deliberately the sandbox's own implementation: the simulated installation checks Shepherd's editing independently.
 */
import { isMap, isSeq, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { ENV_VALUES, renderEnvCue, renderManifest, setImageInEnvCue, type EnvValues } from './deployments-repo.js';
import { placedFile, type WorldApp, type WorldEnvironment, type WorldImageDeclaration } from './layout.js';

/** A declaration file that does not hold what the declaration says; the job that edits it fails with this. */
export class DeclarationError extends Error {}

/**
 * The values of an environment: the seed's for dev, stage and prod; for other names, by position — the first like
 * dev, the last like prod, the others like stage.
 */
export function envValuesOf(order: readonly string[], env: WorldEnvironment): EnvValues {
  const seed = ENV_VALUES[env.env as keyof typeof ENV_VALUES] as Omit<EnvValues, 'namespace'> | undefined;
  const at = order.indexOf(env.env);
  const like = seed ?? (at <= 0 ? ENV_VALUES.dev : at === order.length - 1 ? ENV_VALUES.prod : ENV_VALUES.stage);
  return { ...like, env: env.env, namespace: env.namespace };
}

/** `registry/group/app:tag` → [`registry/group/app`, `tag`] (a registry port's colon is not the tag's). */
export function splitImage(image: string): [repository: string, tag: string] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
}

/** The kustomize `images:` name of the app (the declaration's, else the image repository). */
function kustomizeName(d: { readonly name?: string | undefined }, repository: string): string {
  return d.name ?? repository;
}

function keyPath(key: string): string[] {
  return key.split('.').filter((k) => k !== '');
}

/** Sets the `image` of the container named `container` in every workload of a YAML stream; comments kept. */
export function setContainerImage(text: string, container: string, image: string): string {
  const docs = parseAllDocuments(text);
  let hits = 0;
  for (const doc of docs) {
    if (!('contents' in doc) || !isMap(doc.contents)) continue;
    for (const path of [
      ['spec', 'template', 'spec', 'containers'],
      ['spec', 'containers'],
    ]) {
      const containers = doc.getIn(path);
      if (!isSeq(containers)) continue;
      for (const c of containers.items) {
        if (isMap(c) && c.get('name') === container) {
          c.set('image', image);
          hits++;
        }
      }
    }
  }
  if (hits === 0) throw new DeclarationError(`no container named ${container} in the manifest`);
  return joinDocuments(docs as Document[], text);
}

function joinDocuments(docs: readonly Document[], original: string): string {
  const out = docs.map((d, i) => {
    const s = d.toString();
    return i === 0 && !original.startsWith('---') ? s : `---\n${s}`;
  });
  return out.join('');
}

/** Sets `newTag` of the `images:` entry called `name` in a kustomization (a `digest` there is dropped). */
export function setKustomizeTag(text: string, name: string, tag: string): string {
  const doc = parseDocument(text);
  const images = doc.get('images');
  const entry = isSeq(images) ? images.items.find((i) => isMap(i) && i.get('name') === name) : undefined;
  if (!isMap(entry)) throw new DeclarationError(`the kustomization has no images entry named ${name}`);
  entry.set('newTag', tag);
  if (entry.has('digest')) entry.delete('digest');
  return doc.toString();
}

/** Sets a dotted key of a Helm values file (created with its parents when absent). */
export function setHelmValue(text: string, key: string, value: string): string {
  const doc = parseDocument(text);
  doc.setIn(keyPath(key), value);
  return doc.toString();
}

/** What one declaration file reads and changes. */
interface FileEdit {
  readonly path: string;
  readonly content: string;
}

/** Reads a file of the branch being edited (undefined: absent). */
export type ReadFile = (path: string) => string | undefined;

/** The files of one app in one environment: the pipeline's order, the image they declare, the branch they are on. */
export interface EnvironmentFiles {
  readonly app: WorldApp;
  readonly order: readonly string[];
  readonly env: string;
  readonly image: string;
  readonly read: ReadFile;
}

/**
 * update-app-image for every declaration of `app` in `env`: the new content of each file that changes. With a CUE
 * declaration, the YAML manifest is generated from the environment's values (the seed's generate-manifests.sh);
 * without, the manifest is edited in place.
 */
export function declareImage({ app, order, env: envName, image, read }: EnvironmentFiles): FileEdit[] {
  const env = app.environments[envName]!;
  const [repository, tag] = splitImage(image);
  const hasCue = app.declarations.some((d) => d.format === 'cue');
  const files = new Map<string, string>();
  const current = (path: string): string => {
    const text = files.get(path) ?? read(path);
    if (text === undefined) throw new DeclarationError(`${path} does not exist on the ${env.branch} branch`);
    return text;
  };
  for (const d of app.declarations) {
    const path = placedFile(app, env, d.file);
    files.set(path, editOne(d, current(path)));
  }
  return [...files].filter(([path, content]) => read(path) !== content).map(([path, content]) => ({ path, content }));

  function editOne(d: WorldImageDeclaration, text: string): string {
    switch (d.format) {
      case 'cue':
        return setImageInEnvCue(text, env.env, app.app, image);
      case 'yaml':
        return hasCue
          ? renderManifest(app.app, envValuesOf(order, env), image)
          : setContainerImage(text, d.container ?? app.app, image);
      case 'kustomize':
        return setKustomizeTag(text, kustomizeName(d, repository), tag);
      case 'helm': {
        const tagged = setHelmValue(text, d.key, tag);
        return d.repositoryKey ? setHelmValue(tagged, d.repositoryKey, repository) : tagged;
      }
    }
  }
}

const IMAGE_TOKEN = '__SANDBOX_IMAGE__';

/**
 * The files an environment starts with for `app` running `image`, merged into what the branch already holds
 * (`read`, e.g. another app's block in a shared env.cue or kustomization).
 */
export function initialFiles({ app, order, env: envName, image, read }: EnvironmentFiles): FileEdit[] {
  const env = app.environments[envName]!;
  const values = envValuesOf(order, env);
  const [repository, tag] = splitImage(image);
  const files = new Map<string, string>();
  const current = (path: string): string | undefined => files.get(path) ?? read(path);
  const folderOf = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '');
  for (const d of app.declarations) {
    const path = placedFile(app, env, d.file);
    const existing = current(path);
    switch (d.format) {
      case 'cue': {
        const full = renderEnvCue(app.app, values, image);
        // The main branch's placeholder (`package envs` alone) is replaced; another app's blocks are kept.
        const hasBlocks = existing !== undefined && existing.includes(`${values.env}: `);
        files.set(path, hasBlocks ? `${existing}\n${full.slice(full.indexOf(`${values.env}: `))}` : full);
        break;
      }
      case 'yaml': {
        const manifest = renderManifest(app.app, values, image);
        files.set(path, existing ? `${existing}---\n${manifest}` : manifest);
        break;
      }
      case 'kustomize': {
        const resource = `${app.app}.yaml`;
        files.set(`${folderOf(path)}${resource}`, renderManifest(app.app, values, repository));
        const name = kustomizeName(d, repository);
        if (existing === undefined) {
          files.set(
            path,
            `# ${env.env}: kustomize renders these resources with the image tags below\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${env.namespace}\nresources:\n  - ${resource}\nimages:\n  - name: ${name}\n    newTag: ${tag}\n`,
          );
        } else {
          // Another app's kustomization in the same folder: this app's resource and image entry are added to it.
          const doc = parseDocument(existing);
          doc.addIn(['resources'], resource);
          doc.addIn(['images'], doc.createNode({ name, newTag: tag }));
          files.set(path, doc.toString());
        }
        break;
      }
      case 'helm': {
        const folder = folderOf(path);
        if (current(`${folder}Chart.yaml`) === undefined)
          files.set(
            `${folder}Chart.yaml`,
            `apiVersion: v2\nname: ${env.env}-apps\ndescription: The apps of ${env.env}\ntype: application\nversion: 0.1.0\n`,
          );
        const reference = d.repositoryKey
          ? `{{ .Values.${d.repositoryKey} }}:{{ .Values.${d.key} }}`
          : `${repository}:{{ .Values.${d.key} }}`;
        files.set(
          `${folder}templates/${app.app}.yaml`,
          renderManifest(app.app, values, IMAGE_TOKEN).replace(IMAGE_TOKEN, `"${reference}"`),
        );
        let text = existing ?? `# Helm values of ${env.env}\n`;
        text = setHelmValue(text, d.key, tag);
        if (d.repositoryKey) text = setHelmValue(text, d.repositoryKey, repository);
        files.set(path, text);
        break;
      }
    }
  }
  return [...files].map(([path, content]) => ({ path, content }));
}

/** A commit message's change lines: the CUE path of the image for a CUE app (the seed's), else each file changed. */
export function changeLines(app: WorldApp, env: string, edits: readonly FileEdit[], image: string): string {
  if (app.declarations.some((d) => d.format === 'cue'))
    return `- ${env}.${app.cueName}.appConfig.deployment.image: ${image}`;
  return edits.map((e) => `- ${e.path}: ${image}`).join('\n');
}
