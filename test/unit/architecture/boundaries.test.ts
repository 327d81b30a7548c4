import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The shape of a part in architecture.config.js (plain JavaScript, so typed here). */
interface Part {
  folder: string;
  imports: string[];
  typeImports?: string[];
  packages: string[] | '*';
  builtins: boolean;
  why: string;
}

/** Lints `code` as if it were the file at `path`; returns the lines the architecture rule reports. */
async function refusedLines(path: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.line);
}

describe('the architecture declared in architecture.config.js, enforced by npm run lint', () => {
  it('refuses value and type imports of the sandbox in activities', async () => {
    const lines = await refusedLines(
      'activities/probe.ts',
      [
        "import { Clock } from '../src/sandbox/core/clock.js';",
        "import type { WorldState } from '../src/sandbox/world/state.js';",
        'export const probe: WorldState | typeof Clock | undefined = undefined;',
      ].join('\n'),
    );
    expect(lines).toEqual([1, 2]);
  });

  it('refuses configuration in activities: they receive what they need', async () => {
    const lines = await refusedLines(
      'activities/probe.ts',
      "import { loadConfig } from '../src/config/load.js';\nexport const probe = loadConfig;\n",
    );
    expect(lines).toEqual([1]);
  });

  it('refuses Node built-ins, vendor clients, Temporal node packages and value imports of activities in workflows', async () => {
    const lines = await refusedLines(
      'workflows/probe.ts',
      [
        "import { readFileSync } from 'node:fs';",
        "import { Gitlab } from '@gitbeaker/rest';",
        "import { Worker } from '@temporalio/worker';",
        "import { createGitLabActivities } from '../activities/gitlab.js';",
        "import { parse } from 'yaml';",
        'export const probe = [readFileSync, Gitlab, Worker, createGitLabActivities, parse];',
      ].join('\n'),
    );
    expect(lines).toEqual([1, 2, 3, 4, 5]);
  });

  it('allows @temporalio/workflow, the domain, the Temporal vocabulary and type-only activities in workflows', async () => {
    const code = [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import type * as gitlab from '../activities/gitlab.js';",
      "import { isLegalPromotion } from '../src/domain/environments.js';",
      "import { summarizeFailure } from '../src/temporal/common/failures.js';",
      'export const probe = [proxyActivities, isLegalPromotion, summarizeFailure];',
      'export type Acts = typeof gitlab;',
    ].join('\n');
    const [result] = await eslint.lintText(code, { filePath: join(root, 'workflows/probe.ts') });
    expect(result?.messages).toEqual([]);
  });

  it('refuses Temporal and clients in the domain', async () => {
    const lines = await refusedLines(
      'src/domain/probe.ts',
      [
        "import { ApplicationFailure } from '@temporalio/common';",
        "import type { GitLabClient } from '../clients/gitlab/index.js';",
        'export const probe: GitLabClient | typeof ApplicationFailure | undefined = undefined;',
      ].join('\n'),
    );
    expect(lines).toEqual([1, 2]);
  });

  it('refuses the sandbox, even its types, in the composition root', async () => {
    const lines = await refusedLines(
      'src/worker/probe.ts',
      "import type { WorldState } from '../sandbox/world/state.js';\nexport type Probe = WorldState;\n",
    );
    expect(lines).toEqual([1]);
  });

  it('refuses the vendor clients everywhere but src/clients, even where any package is allowed', async () => {
    const probe = "import { Gitlab } from '@gitbeaker/rest';\nexport const probe = Gitlab;\n";
    expect(await refusedLines('src/cli/probe.ts', probe)).toEqual([1]);
    expect(await refusedLines('src/clients/probe.ts', probe)).toEqual([]);
  });

  it('refuses a file under src/ that no part owns', async () => {
    const [result] = await eslint.lintText('export const probe = 1;\n', {
      filePath: join(root, 'src/undeclared/probe.ts'),
    });
    expect(result?.messages.map((m) => m.ruleId)).toContain('boundaries/no-unknown-files');
  });

  it('names only declared parts and existing folders', async () => {
    const config = (await import(pathToFileURL(join(root, 'architecture.config.js')).href)) as {
      parts: Record<string, Part>;
      ownedPackages: Record<string, string>;
    };
    const names = Object.keys(config.parts);
    const named = [
      ...Object.values(config.parts).flatMap((p) => [...p.imports, ...(p.typeImports ?? [])]),
      ...Object.values(config.ownedPackages),
    ];
    expect(named.filter((n) => !names.includes(n))).toEqual([]);
    expect(Object.values(config.parts).filter((p) => !existsSync(join(root, p.folder)))).toEqual([]);
  });
});

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

// What an import rule cannot see: activities may import the clients' error classes, so building a client is a
// matter of what the code does with them, and the environment is a global, not an import.
describe('activities', () => {
  it('never read the environment or build their own clients', async () => {
    const rules: [RegExp, string][] = [
      [/process\.env/, 'reads the environment'],
      [
        /new\s+(GitLabClient|JenkinsClient|Gitlab|Jenkins|KubeConfig)\s*\(|create(Kubernetes|Webhook)Client\s*\(/,
        'builds its own client',
      ],
    ];
    const problems = files(join(root, 'activities')).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return rules.filter(([re]) => re.test(text)).map(([, what]) => `${f.slice(root.length)} ${what}`);
    });
    expect(problems).toEqual([]);
  });
});
