/**
 * The failures the simulated GitLab can report. The model throws them; the HTTP layer turns each kind into the
 * status code and body shape real GitLab uses (see `http-errors.ts`), so the model stays free of HTTP.
 */

export const GITLAB_ERROR_KINDS = [
  /** `render_api_error!` 400: `{"message": "..."}`, optionally with `error_code`. */
  'bad-request',
  /** Grape parameter validation 400: `{"error": "branch is missing"}`. */
  'invalid-params',
  /** 401 `{"message":"401 Unauthorized"}`. */
  'unauthorized',
  /** 403 `{"message":"403 Forbidden"}`, or `"403 Forbidden - <detail>"` when `detail` is not empty. */
  'forbidden',
  /** 404 `{"message":"404 <What> Not Found"}`; `message` holds `<What>` (Project, Branch, File, Commit). */
  'not-found',
  /** 404 `{"message":"404 Not found"}`: a `find_by!` that found no record (an unknown MR iid or pipeline id). */
  'record-not-found',
  /** 405 `{"message":"405 Method Not Allowed"}` or a specific message. */
  'not-allowed',
  /** 409 `{"message": ...}`. */
  'conflict',
  /** 422 `{"message": ...}`. */
  'unprocessable',
] as const;
export type GitLabErrorKind = (typeof GITLAB_ERROR_KINDS)[number];

/** A refusal by the model, carrying the exact message real GitLab would send. */
export class GitLabError extends Error {
  constructor(
    readonly kind: GitLabErrorKind,
    /** The message; an array for the validation errors GitLab renders as lists (duplicate MR). */
    readonly detail: string | readonly string[],
    /** GitLab's `error_code` on revert / cherry-pick failures (`conflict`, `empty`). */
    readonly errorCode?: string,
  ) {
    super(typeof detail === 'string' ? detail : detail.join(', '));
    this.name = 'GitLabError';
  }

  static notFound(
    what: 'Project' | 'Branch' | 'File' | 'Commit' | 'Merge Request' | 'Note' | 'User' | 'Tree' | 'Ref' | 'Merge Base',
  ): GitLabError {
    return new GitLabError('not-found', what);
  }

  /** GitLab's global RecordNotFound handler: `{"message":"404 Not found"}` (lowercase `found`). */
  static recordNotFound(): GitLabError {
    return new GitLabError('record-not-found', 'Not found');
  }

  static badRequest(message: string, errorCode?: string): GitLabError {
    return new GitLabError('bad-request', message, errorCode);
  }

  static invalidParams(...problems: string[]): GitLabError {
    return new GitLabError('invalid-params', problems.join(', '));
  }
}
