/**
 * When Argo CD's word about an environment can be trusted. "Synced + Healthy" alone is not enough: both can be
 * left over from the previous sync (the baseline race of the original validate script), so the rule also ties
 * them to the revision and to a reconciliation that happened after the sync finished.
 */
import type { EnvironmentState } from './activities.js';

/** Why the rule does not hold yet, or undefined when it does. */
export function unsettledReason(
  state: Pick<EnvironmentState, 'sync' | 'health' | 'operation' | 'reconciledAt'>,
  revision?: string,
): string | undefined {
  if (state.sync.status !== 'Synced') return `sync is ${state.sync.status}`;
  if (revision !== undefined && state.sync.revision !== revision)
    return `synced revision is ${state.sync.revision?.slice(0, 8) ?? 'none'}, not ${revision.slice(0, 8)}`;
  const op = state.operation;
  if (op !== undefined) {
    if (op.phase !== 'Succeeded') return `last sync operation is ${op.phase}`;
    if (op.revision !== state.sync.revision) return `last sync operation was for ${op.revision.slice(0, 8)}`;
    if (
      op.finishedAt !== undefined &&
      (state.reconciledAt === undefined || Date.parse(state.reconciledAt) < Date.parse(op.finishedAt))
    ) {
      return 'not reconciled since the sync finished';
    }
  } else if (revision !== undefined) {
    return 'no sync operation recorded';
  }
  if (state.health.status !== 'Healthy') return `health is ${state.health.status}`;
  return undefined;
}

/**
 * The trustworthy rule: `sync.revision` is `revision` (when given), the sync operation for it Succeeded,
 * `reconciledAt` is not older than the operation's `finishedAt`, and health is Healthy.
 * Without `revision` (reading a source environment) an app with no recorded operation may still be settled.
 */
export function isSyncedAndHealthyAt(
  state: Pick<EnvironmentState, 'sync' | 'health' | 'operation' | 'reconciledAt'>,
  revision?: string,
): boolean {
  return unsettledReason(state, revision) === undefined;
}

/**
 * Why a target environment is not settled on what its branch declares, or undefined when it is: Argo CD synced the
 * branch head (`declared.commitSha`) and trusts it (the rule above), and the workload runs the declared image. A
 * promotion starts only from a settled target, so that a rollback returns to a state that was real.
 */
export function targetUnsettledReason(
  state: Pick<EnvironmentState, 'sync' | 'health' | 'operation' | 'reconciledAt' | 'imageTag'>,
  declared: { readonly commitSha: string; readonly imageTag: string | undefined },
): string | undefined {
  const argo = unsettledReason(state, declared.commitSha);
  if (argo !== undefined) return argo;
  if (state.imageTag !== declared.imageTag)
    return `it runs ${state.imageTag ?? 'nothing'} but its branch declares ${declared.imageTag ?? 'no tag'}`;
  return undefined;
}
