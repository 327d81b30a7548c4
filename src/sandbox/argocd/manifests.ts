/**
 * Reads the rendered manifests of an Application's path: every `.yaml`/`.yml`/`.json` file, every YAML
 * document in it that is a Kubernetes object.
 */
import { parseAllDocuments } from 'yaml';
import { isPlainObject, type KubeObject } from '../kubernetes/objects.js';

/** Thrown when a manifest does not parse; Argo CD reports it as a ComparisonError. */
export class ManifestError extends Error {}

/** Parses the files (sorted by path, as Argo CD's directory source does) into objects. */
export function parseManifests(files: Record<string, string>): KubeObject[] {
  const out: KubeObject[] = [];
  for (const path of Object.keys(files).sort()) {
    if (!/\.(ya?ml|json)$/.test(path)) continue;
    for (const doc of parseAllDocuments(files[path]!)) {
      if (doc.errors.length > 0) throw new ManifestError(`${path}: ${doc.errors[0]!.message}`);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      if (
        !isPlainObject(value) ||
        typeof value.apiVersion !== 'string' ||
        typeof value.kind !== 'string' ||
        !isPlainObject(value.metadata) ||
        typeof value.metadata.name !== 'string'
      ) {
        throw new ManifestError(`${path}: Object 'Kind' is missing in '${JSON.stringify(value).slice(0, 80)}'`);
      }
      out.push(value as unknown as KubeObject);
    }
  }
  return out;
}
