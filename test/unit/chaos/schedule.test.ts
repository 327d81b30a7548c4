import { describe, expect, it } from 'vitest';
import { planRuns, prng } from '../../../src/chaos/schedule.js';
import { sideEffectProblems, type SideEffects } from '../../../src/chaos/side-effects.js';

describe('the chaos schedule', () => {
  it('replays exactly for the same seed and differs for another', () => {
    expect(planRuns({ runs: 20, seed: 1 })).toEqual(planRuns({ runs: 20, seed: 1 }));
    expect(planRuns({ runs: 20, seed: 2 })).not.toEqual(planRuns({ runs: 20, seed: 1 }));
  });

  it('draws numbers in [0, 1) from a 32-bit seed', () => {
    const random = prng(4294967295);
    for (let i = 0; i < 1000; i++) expect(random()).toSatisfy((n: number) => n >= 0 && n < 1);
  });

  it('strikes within the first 90 % of a run, in order, and expects stage-degraded runs to roll back', () => {
    for (const plan of planRuns({ runs: 50, seed: 9 })) {
      const moments = plan.events.map((e) => e.at);
      expect(moments).toEqual([...moments].sort((a, b) => a - b));
      expect(moments.every((m) => m >= 0 && m <= 0.9)).toBe(true);
      expect(plan.expected).toBe(plan.scenario === 'stage-degraded' ? 'rolled_back' : 'succeeded');
    }
  });
});

describe('side-effect problems', () => {
  const clean: SideEffects = {
    bumps: 1,
    ciBuilds: 1,
    mergeRequestsPerEnv: { dev: 1, stage: 1 },
    revertMergeRequestsPerEnv: { stage: 1 },
    merges: 3,
    mergedMergeRequests: 3,
    promoteBuildsPerEnv: { stage: 1 },
    openMergeRequests: [],
    leftoverBranches: [],
  };

  it('finds none in a run that did everything once and cleaned up', () => {
    expect(sideEffectProblems(clean)).toEqual({ duplicates: [], leaks: [] });
  });

  it('names every duplicate and every leak', () => {
    const problems = sideEffectProblems({
      ...clean,
      bumps: 2,
      mergeRequestsPerEnv: { dev: 1, stage: 2 },
      promoteBuildsPerEnv: { stage: 2 },
      merges: 4,
      openMergeRequests: ['!4 promote-stage-x → stage'],
      leftoverBranches: ['promote-stage-y'],
    });
    expect(problems.duplicates).toEqual([
      '2 version bumps',
      '2 merge requests for stage',
      '2 promote-environment builds for stage',
      '4 merges for 3 merged merge requests',
    ]);
    expect(problems.leaks).toEqual([
      'open merge request !4 promote-stage-x → stage',
      'branch promote-stage-y left behind',
    ]);
  });
});
