/**
 * The stored workflow histories (test/replay/histories/*.json, written by `npx tsx scripts/record-histories.ts`):
 * reading them, and reading what they say in plain text so that a test can look for credentials.
 *
 * The files use the JSON form of `temporal workflow show -o json` (`historyToJSON` of @temporalio/common), in which
 * every payload's data is base64: a secret inside an activity input or result is only visible once decoded.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import type { Environment } from '../../src/domain/environments.js';
import { promotionWorkflowId, validationWorkflowId } from '../../src/domain/promotion-policy.js';

export const HISTORY_DIR = fileURLToPath(new URL('./histories/', import.meta.url));

export interface StoredHistory {
  readonly file: string;
  /** The file's text as stored. */
  readonly json: string;
  readonly history: History;
  readonly workflowId: string;
  readonly workflowType: string;
}

/** Every stored history, parsed through the SDK's own JSON reader. */
export function storedHistories(dir: string = HISTORY_DIR): StoredHistory[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const json = readFileSync(join(dir, file), 'utf8');
      const history = historyFromJson(json);
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const workflowType = started?.workflowType?.name ?? '';
      const input = started?.input?.payloads?.[0]?.data;
      const args = (input ? JSON.parse(Buffer.from(input).toString('utf8')) : {}) as {
        appName?: string;
        targetEnv?: Environment;
      };
      return { file, json, history, workflowId: started?.workflowId || workflowIdOf(workflowType, args), workflowType };
    });
}

/** The SDK's JSON history writer (the form of `temporal workflow show -o json`). */
export function historyToJson(history: History): string {
  return historyToJSON(history);
}

/** Reads a history in the JSON form of `temporal workflow show -o json`. */
export function historyFromJson(json: string): History {
  return historyFromJSON(JSON.parse(json));
}

/** The business id the run had (`validate-<app>`, `promote-<app>-<env>`), from its input (servers before 1.27 do not record it). */
function workflowIdOf(workflowType: string, args: { appName?: string; targetEnv?: Environment }): string {
  const app = args.appName ?? 'unknown';
  if (workflowType === 'promoteEnvironment' && args.targetEnv) return promotionWorkflowId(app, args.targetEnv);
  if (workflowType === 'validatePipeline') return validationWorkflowId(app);
  return `${workflowType}-${app}`;
}

/**
 * The history as readable text: the JSON itself plus every base64 value in it decoded (payload data, metadata,
 * search attributes, memo), so that a scan sees what the workflow actually carried.
 */
export function readableText(json: string): string {
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.length >= 4 && /^[A-Za-z0-9+/]+={0,2}$/.test(value))
        decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(JSON.parse(json));
  return `${json}\n${decoded.join('\n')}`;
}

/**
 * What a credential of the sandbox world (or a real installation) looks like in text:
 * - a GitLab personal access token (`glpat-…`);
 * - the world's Jenkins API token, Jenkins password and Kubernetes bearer token: 36 lowercase hex characters
 *   (`randomBytes(18)`), as the kubeconfig carries it (`token: <hex>`) — git SHAs (40) and run ids (UUIDs) differ;
 * - a bearer or basic Authorization header, or a kubeconfig `token:` field.
 */
export const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /glpat-/,
  /(?<![0-9a-f])[0-9a-f]{36}(?![0-9a-f])/,
  /\b(Bearer|Basic) [A-Za-z0-9+/=._-]{8,}/,
  /\btoken:\s*\S+/,
  /private[-_]token/i,
];

/** The patterns that match the history's readable text. */
export function credentialsIn(json: string): string[] {
  const text = readableText(json);
  return CREDENTIAL_PATTERNS.filter((p) => p.test(text)).map((p) => `${p.source}: ${text.match(p)?.[0] ?? ''}`);
}
