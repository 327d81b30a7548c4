import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The e2e files that take minutes: mostly waiting on child processes and sandbox timers. */
const LONGEST = /\/(crash-[^/]*|cli-operator|demo)\.test\.ts$/;
/** The dev-server workflow files against sandbox worlds: a minute or two each, started before the short files. */
const LONG_WORKFLOWS = /\/workflows\/sandbox-[^/]*\.test\.ts$/;

/**
 * Starts the longest files first, on a fresh clone too (vitest orders by the durations of the last run when it has
 * them, by file size otherwise): the crash files, which mostly wait on child processes and timers, and the CLI
 * operator and demo files (the longest after them, minutes each), then the rest of e2e with the dev-server workflow
 * files against sandbox worlds (a minute or two each, so none of them is left to run alone at the end), then the
 * in-process tiers, which fill the workers while the long files wait.
 */

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      if (f.project.name !== 'e2e') return LONG_WORKFLOWS.test(f.moduleId) ? 1 : 2;
      return LONGEST.test(f.moduleId) ? 0 : 1;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
