import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Every TypeScript file below `dir` (none when it does not exist). */
function files(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

async function lintAs(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return (result?.messages ?? []).map((m) => `${m.line}:${m.message}`);
}

describe('the architecture lint rules', () => {
  it('refuse Node built-ins, vendor clients, value imports of activities and the sandbox in workflow code', async () => {
    const messages = await lintAs(
      'workflows/probe.ts',
      [
        "import { readFileSync } from 'node:fs';",
        "import { Gitlab } from '@gitbeaker/rest';",
        "import { Worker } from '@temporalio/worker';",
        "import { mergeMergeRequest } from '../activities/gitlab.js';",
        "import { startSandboxServer } from '../src/sandbox/core/http.js';",
        'export const used = [readFileSync, Gitlab, Worker, mergeMergeRequest, startSandboxServer];',
      ].join('\n'),
    );
    for (const line of [1, 2, 3, 4, 5]) expect(messages.some((m) => m.startsWith(`${line}:`))).toBe(true);
  });

  it('allow @temporalio/workflow, the domain and type-only imports of activities in workflow code', async () => {
    const messages = await lintAs(
      'workflows/probe.ts',
      [
        "import { proxyActivities } from '@temporalio/workflow';",
        "import type * as gitlab from '../activities/gitlab.js';",
        "import { isLegalPromotion } from '../src/domain/environments.js';",
        'export const used = [proxyActivities, isLegalPromotion];',
        'export type Acts = typeof gitlab;',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });

  it('refuse sandbox imports in activities', async () => {
    const messages = await lintAs(
      'activities/probe.ts',
      "import { Clock } from '../src/sandbox/core/clock.js';\nexport const c = Clock;\n",
    );
    expect(messages.some((m) => m.includes('sandbox'))).toBe(true);
  });
});

describe('the sandbox boundary', () => {
  it('no file under workflows/ or activities/ imports from src/sandbox', async () => {
    const offenders = ['workflows', 'activities']
      .flatMap((d) => files(join(root, d)))
      .filter((f) => /from\s+['"][^'"]*src\/sandbox/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('activities', () => {
  it('never read the environment, import a vendor client library, or build their own clients', async () => {
    const rules: [RegExp, string][] = [
      [/process\.env/, 'reads the environment'],
      [/from\s+['"](@gitbeaker\/[^'"]+|jenkins|@kubernetes\/client-node)['"]/, 'imports a vendor client library'],
      [
        /new\s+(GitLabClient|JenkinsClient|Gitlab|Jenkins|KubeConfig)\s*\(|create(Kubernetes|Webhook)Client\s*\(/,
        'builds its own client',
      ],
      [/from\s+['"][^'"]*src\/config\/load\.js['"]/, 'loads configuration'],
    ];
    const problems = files(join(root, 'activities')).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return rules.filter(([re]) => re.test(text)).map(([, what]) => `${f.slice(root.length)} ${what}`);
    });
    expect(problems).toEqual([]);
  });
});
