/**
 * Jenkins's checks: reachable and authenticated with the configured user and API token (`/whoAmI/api/json`), the
 * app's CI job exists, and the promote job exists with the parameters Shepherd passes to it.
 */
import { JenkinsClient } from '../clients/jenkins/client.js';
import { AuthenticationError, CertificateError, NotFoundError } from '../domain/errors.js';
import { fail, pass, reasonOf, skipped, type CheckResult } from './check.js';
import type { Installation } from './installation.js';

/** The parameters `triggerPromoteJob` sends (jenkins/pipelines/Jenkinsfile.promote declares them). */
export const PROMOTE_JOB_PARAMETERS = ['APP_NAME', 'SOURCE_ENV', 'TARGET_ENV', 'IMAGE_TAG'] as const;

const REQUEST_TIMEOUT_MS = 10_000;

export async function checkJenkins(inst: Installation, opts: { quick: boolean }): Promise<CheckResult[]> {
  const { url, user, token, appJob, promoteJob } = inst.jenkins;
  const names = inst.names;
  const client = new JenkinsClient({ url, user, token, timeoutMs: REQUEST_TIMEOUT_MS, companyCa: inst.companyCa });
  const authCheck = `authenticated at ${url}`;
  try {
    const me = await client.whoAmI();
    if (me.anonymous) {
      return [
        fail(
          'jenkins',
          authCheck,
          'Jenkins treats the requests as anonymous',
          `Set ${names.jenkinsCredentials} to a user and its API token`,
        ),
      ];
    }
    const results = [pass('jenkins', authCheck, `user ${me.name}`)];
    if (opts.quick) return results;
    const ciName = appJob.join('/');
    try {
      await client.jobParameterNames(appJob);
      results.push(pass('jenkins', `CI job ${ciName} exists`));
    } catch (err) {
      results.push(jobFailure(`CI job ${ciName} exists`, err, 'JENKINS_APP_JOB_PATH'));
    }
    const promoteName = promoteJob.join('/');
    try {
      const params = await client.jobParameterNames(promoteJob);
      const missing = PROMOTE_JOB_PARAMETERS.filter((p) => !params.includes(p));
      results.push(
        missing.length === 0
          ? pass('jenkins', `promote job ${promoteName} takes ${PROMOTE_JOB_PARAMETERS.join(', ')}`)
          : fail(
              'jenkins',
              `promote job ${promoteName} takes ${PROMOTE_JOB_PARAMETERS.join(', ')}`,
              `it lacks ${missing.join(', ')} (it declares ${params.join(', ') || 'no parameters'})`,
              'Declare them in its pipeline (jenkins/pipelines/Jenkinsfile.promote) and run it once so Jenkins learns them',
            ),
      );
    } catch (err) {
      results.push(jobFailure(`promote job ${promoteName} exists`, err, 'JENKINS_PROMOTE_JOB_NAME'));
    }
    return results;
  } catch (err) {
    const refused = err instanceof AuthenticationError;
    const results = [
      fail(
        'jenkins',
        authCheck,
        refused ? `Jenkins refused the credentials (HTTP ${err.facts.status})` : reasonOf(err),
        err instanceof CertificateError
          ? err.fix
          : (inst.sandboxFix ??
              (refused
                ? `Check ${names.jenkinsCredentials}: the API token is made under the user's Configure → API Token`
                : `Check ${names.jenkinsUrl} and that Jenkins is up, then run doctor again`)),
      ),
    ];
    if (!opts.quick) results.push(skipped('jenkins', 'CI and promote jobs', 'the authentication check failed'));
    return results;
  }
}

function jobFailure(what: string, err: unknown, variable: string): CheckResult {
  return err instanceof NotFoundError
    ? fail('jenkins', what, 'Jenkins has no such job, or the user cannot see it', `Check ${variable}`)
    : fail('jenkins', what, reasonOf(err), 'Run doctor again once Jenkins answers');
}
