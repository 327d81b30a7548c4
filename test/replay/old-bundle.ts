/**
 * The workflow bundle the stored histories were recorded with (written by `npx tsx scripts/record-histories.ts`,
 * gzipped): the "old code" a deploy replaces. A worker started with it runs workflows exactly as the recorded
 * version did, so a test can start a run on the old code and let the current code finish it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const OLD_BUNDLE_FILE = fileURLToPath(new URL('./bundles/recorded-workflows.js.gz', import.meta.url));

/**
 * The bundle as it is stored: its inline source map (three quarters of its size, only used for stack traces)
 * replaced by an empty one naming the file, which the Worker still requires.
 */
export function storableBundle(code: string): string {
  const empty = Buffer.from(
    JSON.stringify({ version: 3, file: 'recorded-workflows.js', sources: [], names: [], mappings: '' }),
  ).toString('base64');
  return code.replace(
    /^\/\/# sourceMappingURL=data:.*$/m,
    `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${empty}`,
  );
}

/** The recorded bundle's code, for `Worker.create({ workflowBundle: { code } })`. */
export function oldWorkflowBundle(): { code: string } {
  return { code: gunzipSync(readFileSync(OLD_BUNDLE_FILE)).toString('utf8') };
}
