/**
 * Container image references (`registry/group/app:tag`, optionally `@sha256:…`): the one parser of their parts,
 * used where env branches declare an image and where the cluster reports one.
 */

/** The repository part of an image reference: everything before the tag or digest. */
export function imageRepository(ref: string): string {
  const at = ref.indexOf('@');
  const withoutDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The tag of an image reference, digest ignored; undefined when it has none (a registry port is not a tag). */
export function imageTagOf(ref: string): string | undefined {
  const at = ref.indexOf('@');
  const withoutDigest = at >= 0 ? ref.slice(0, at) : ref;
  const repository = imageRepository(withoutDigest);
  const tag = withoutDigest.slice(repository.length + 1);
  return tag === '' ? undefined : tag;
}
