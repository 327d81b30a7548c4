/**
 * Idempotent registration of Shepherd's search attributes through the operator API, so that a dev-server database
 * created before an attribute existed, or a self-hosted cluster, gets them too. Where the worker may not add them
 * (Temporal Cloud, a restricted namespace), it says which are missing and the commands an admin must run: every
 * run upserts them, so a run on a namespace without them fails its first workflow task, again and again.
 */
import proto from '@temporalio/proto';
import type { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from './common/search-attributes.js';

const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
const ALREADY_EXISTS = 6;
const UNIMPLEMENTED = 12;

/** Some of Shepherd's search attributes are missing on the namespace and this connection could not add them. */
export class SearchAttributesMissingError extends Error {
  constructor(
    readonly namespace: string,
    readonly missing: readonly string[],
    reason: string,
  ) {
    super(
      `Shepherd's search attributes ${missing.join(', ')} are missing on namespace ${namespace}, and adding them ` +
        `was refused (${reason}). Every run would fail its first workflow task on them. An admin must run:\n` +
        searchAttributeCommands(namespace, missing)
          .map((command) => `  ${command}\n`)
          .join('') +
        "(on Temporal Cloud, add them as Keyword in the namespace's settings or with `tcld namespace " +
        'search-attributes add`).',
    );
    this.name = 'SearchAttributesMissingError';
  }
}

/** The Temporal CLI command that creates each named attribute (all of Shepherd's are Keyword) on `namespace`. */
export function searchAttributeCommands(namespace: string, names: readonly string[]): string[] {
  return names.map(
    (name) => `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Keyword`,
  );
}

/**
 * Adds whichever of Shepherd's search attributes the namespace lacks; returns the names it added. Throws
 * SearchAttributesMissingError when the server refuses to add them, and the server's error when it cannot even
 * list them.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const known = new Set<string>();
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    for (const name of [
      ...Object.keys(existing.customAttributes ?? {}),
      ...Object.keys(existing.systemAttributes ?? {}),
    ])
      known.add(name);
  } catch (err) {
    // The time-skipping test server implements adding search attributes but not listing them.
    if ((err as { code?: number }).code !== UNIMPLEMENTED) throw err;
  }
  const missing = SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name)).map((key) => key.name);
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
  } catch (err) {
    if ((err as { code?: number }).code !== ALREADY_EXISTS)
      throw new SearchAttributesMissingError(namespace, missing, (err as Error).message.split('\n')[0] ?? String(err));
  }
  return missing;
}
