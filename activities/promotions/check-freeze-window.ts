/**
 * checkFreezeWindow. Changes nothing; waits for nothing: whether the app's environment is frozen at `at`, by the
 * freeze windows the worker's pipeline declares for it (`layout.environments[env].freeze`), until when, and its
 * policy. The windows come from the worker's layout, never from the workflow: a run started from the UI, with any
 * input, is held by the same windows. Safe to repeat: it only reads its configuration and the clock.
 */
import { z } from 'zod';
import { ACTIVITY_FIELDS, type ShepherdActivities } from '../../src/domain/activities.js';
import { freezeAt } from '../../src/domain/freeze.js';
import { environmentOrderOf, placeOf, type PipelineLayout } from '../../src/domain/pipeline.js';
import { defineActivity } from '../define.js';

export interface CheckFreezeWindowDeps {
  /** The app's layout: its environments and their freeze windows. */
  readonly layout: PipelineLayout;
}

export function createCheckFreezeWindow({ layout }: CheckFreezeWindowDeps): ShepherdActivities['checkFreezeWindow'] {
  return defineActivity({
    input: z.object({
      appName: ACTIVITY_FIELDS.configuredApp(layout.app.name),
      env: ACTIVITY_FIELDS.environment(environmentOrderOf(layout)),
      at: ACTIVITY_FIELDS.instant().optional(),
    }),
    async run(input, { attempt }) {
      const windows = placeOf(layout, input.env).freeze;
      if (!windows) return { frozen: false, policy: 'wait', attempt };
      const state = freezeAt(windows, input.at ?? new Date().toISOString());
      return { ...state, policy: windows.policy, attempt };
    },
  });
}
