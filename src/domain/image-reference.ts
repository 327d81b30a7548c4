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

/** `algorithm:hex`, the form of a content digest (`sha256:…`, `sha512:…`). */
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

/**
 * The digest an image reference is pinned to (`sha256:…`), from `name@sha256:…` or `name:tag@sha256:…`; undefined
 * when it has none. Also reads a runtime's `imageID` (`docker-pullable://name@sha256:…`, `name@sha256:…`) or a
 * bare digest (`sha256:…`, as containerd reports some imageIDs).
 */
export function imageDigestOf(ref: string): string | undefined {
  const bare = ref.replace(/^[a-z-]+:\/\//, '');
  if (DIGEST.test(bare)) return bare.toLowerCase();
  const at = bare.lastIndexOf('@');
  if (at < 0) return undefined;
  const digest = bare.slice(at + 1);
  return DIGEST.test(digest) ? digest.toLowerCase() : undefined;
}

/** A digest shortened for messages: `sha256:0123456789ab`. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return digest.slice(0, colon + 13);
}
