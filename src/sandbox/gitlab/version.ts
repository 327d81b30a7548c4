/** The version `GET /api/v4/version` reports and webhook deliveries name in `User-Agent: GitLab/<version>`. */
export const SIMULATED_GITLAB_VERSION = '17.8.0';
