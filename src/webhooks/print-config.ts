/**
 * What to register in GitLab and Jenkins so that their events reach the receiver, for one configured pipeline:
 * `shepherd webhooks --print-config`. Secrets are never printed: the text names the variables that hold them.
 */
import type { PipelineLayout } from '../domain/pipeline.js';

export interface RegistrationSettings {
  /** The receiver's public base URL (SHEPHERD_WEBHOOK_URL), without a trailing slash. */
  readonly baseUrl: string;
  /** GitLab's base URL, for the API call; undefined: a placeholder. */
  readonly gitlabUrl: string | undefined;
  readonly layout: PipelineLayout;
  /** Whether the secrets are set; the text says so, never what they are. */
  readonly gitlabTokenSet: boolean;
  readonly jenkinsTokenSet: boolean;
}

/** The events a project hook must send: exactly what the receiver acts on (every flag sent, see reference §1.1). */
export const GITLAB_HOOK_EVENTS = {
  push_events: true,
  merge_requests_events: true,
  pipeline_events: true,
  tag_push_events: false,
  note_events: false,
  issues_events: false,
  job_events: false,
  wiki_page_events: false,
  deployment_events: false,
  releases_events: false,
} as const;

/** The hook URL of each source. */
export function hookUrls(baseUrl: string): { gitlab: string; jenkins: string } {
  return { gitlab: `${baseUrl}/webhooks/gitlab`, jenkins: `${baseUrl}/webhooks/jenkins` };
}

export function registrationText(s: RegistrationSettings): string {
  const urls = hookUrls(s.baseUrl);
  const { layout } = s;
  const gitlab = s.gitlabUrl ?? '<GITLAB_URL>';
  const jobUrl = (job: readonly string[]): string => `${job.map((p) => `job/${encodeURIComponent(p)}`).join('/')}/`;
  const withUserinfo = urls.jenkins.replace(/^(https?:\/\/)/, '$1shepherd:${SHEPHERD_WEBHOOK_JENKINS_TOKEN}@');
  const missing = [
    ...(s.gitlabTokenSet ? [] : ['SHEPHERD_WEBHOOK_GITLAB_TOKEN']),
    ...(s.jenkinsTokenSet ? [] : ['SHEPHERD_WEBHOOK_JENKINS_TOKEN']),
  ];
  const lines: string[] = [
    `Webhooks for ${layout.app.name}: the receiver at ${s.baseUrl}`,
    ...(missing.length
      ? [
          `Not set yet: ${missing.join(', ')}. The receiver answers 401 to every delivery of a source without its secret.`,
        ]
      : []),
    '',
    '== GitLab: a project hook on each of the two projects ==',
    '',
  ];
  for (const project of [layout.gitlab.appProject, layout.gitlab.deploymentsProject]) {
    lines.push(
      `${project}: Settings → Webhooks → Add new webhook`,
      `  URL:           ${urls.gitlab}`,
      '  Secret token:  the value of SHEPHERD_WEBHOOK_GITLAB_TOKEN',
      '  Trigger:       Push events (all branches), Merge request events, Pipeline events; nothing else',
      '  SSL verification: enabled',
      '',
    );
  }
  lines.push('Or through the API (a Maintainer token in GITLAB_TOKEN; the hook token from the environment):', '');
  for (const project of [layout.gitlab.appProject, layout.gitlab.deploymentsProject]) {
    lines.push(
      `curl --fail -X POST -H "PRIVATE-TOKEN: $GITLAB_TOKEN" \\`,
      `  --data-urlencode "url=${urls.gitlab}" \\`,
      '  --data-urlencode "token=$SHEPHERD_WEBHOOK_GITLAB_TOKEN" \\',
      `  ${Object.entries(GITLAB_HOOK_EVENTS)
        .map(([k, v]) => `-d ${k}=${v}`)
        .join(' ')} -d enable_ssl_verification=true \\`,
      `  "${gitlab}/api/v4/projects/${encodeURIComponent(project)}/hooks"`,
      '',
    );
  }
  lines.push(
    '== Jenkins: build notifications of the CI job and the promote job ==',
    '',
    'Install the Notification plugin (notification), then store the endpoint URL with its secret as a credential:',
    '  Manage Jenkins → Credentials → Add: kind "Secret text", ID shepherd-webhook-url,',
    `  secret ${withUserinfo}`,
    '  (the password of the userinfo is the value of SHEPHERD_WEBHOOK_JENKINS_TOKEN; Jenkins sends it as Basic auth).',
    '',
  );
  for (const [role, job] of [
    ['CI job', layout.jenkins.appJob],
    ['promote job', layout.jenkins.promoteJob],
  ] as const) {
    lines.push(
      `${role} ${job.join(' » ')} (${jobUrl(job)}): Configure → Job Notifications → Add Endpoint`,
      '  Format JSON, Protocol HTTP, Event "All Events", URL type Secret: shepherd-webhook-url, Timeout 30000',
      '',
    );
  }
  lines.push(
    'The same in a Jenkinsfile (both jobs; property of the Notification plugin, the snippet generator shows the exact form for your version):',
    '',
    'properties([',
    "  [$class: 'HudsonNotificationProperty', endpoints: [[",
    "    urlInfo: [urlType: 'SECRET', urlOrId: 'shepherd-webhook-url'],",
    "    event: 'all', format: 'JSON', protocol: 'HTTP', timeout: 30000, loglines: 0",
    '  ]]]',
    '])',
    '',
    'Without the plugin, a post step sends the same JSON when the build ends (the token as a Secret text credential',
    `shepherd-webhook-token); in the promote job it carries APP_NAME and TARGET_ENV, which route it to the promotion:`,
    '',
    'post {',
    '  always {',
    '    script {',
    '      def body = groovy.json.JsonOutput.toJson([',
    `        name: env.JOB_BASE_NAME, url: env.JOB_URL,`,
    "        build: [number: env.BUILD_NUMBER as int, phase: 'COMPLETED', status: currentBuild.currentResult,",
    '                parameters: [APP_NAME: params.APP_NAME ?: "", TARGET_ENV: params.TARGET_ENV ?: ""]]])',
    "      writeFile file: 'shepherd-notification.json', text: body",
    "      withCredentials([string(credentialsId: 'shepherd-webhook-token', variable: 'SHEPHERD_TOKEN')]) {",
    `        sh 'curl -sS --max-time 10 -X POST -H "X-Shepherd-Token: $SHEPHERD_TOKEN" -H "Content-Type: application/json" --data @shepherd-notification.json ${urls.jenkins} || true'`,
    '      }',
    '    }',
    '  }',
    '}',
    '',
  );
  return lines.join('\n');
}
