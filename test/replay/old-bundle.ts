/**
 * The workflow bundle the stored histories were recorded with (written by `npx tsx scripts/record-histories.ts`,
 * gzipped): the "old code" a deploy replaces. A worker started with it runs workflows exactly as the recorded
 * version did, so a test can start a run on the old code and let the current code finish it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const OLD_BUNDLE_FILE = fileURLToPath(new URL('./bundles/recorded-workflows.js.gz', import.meta.url));

/** The recorded bundle's code, for `Worker.create({ workflowBundle: { code } })`. */
export function oldWorkflowBundle(): { code: string } {
  return { code: gunzipSync(readFileSync(OLD_BUNDLE_FILE)).toString('utf8') };
}
