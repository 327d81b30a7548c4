/**
 * What the sandbox's service-account token may do, as an RBAC authorizer would decide it. By default it may do
 * everything; a test or the admin endpoint denies single permissions to see what Shepherd does without them. The
 * API server answers SelfSubjectAccessReviews from this model and refuses denied requests with 403 Forbidden.
 */

/** The attributes an authorizer sees for a resource request. `namespace` undefined: cluster-wide. */
export interface AccessAttributes {
  readonly verb: string;
  /** API group; `''` for the core group. */
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string | undefined;
}

/** A denied permission; `namespace` undefined denies it in every namespace. */
export type DeniedPermission = AccessAttributes;

/** The user the sandbox's token authenticates as (named in Forbidden messages, as a real API server does). */
export const SANDBOX_SERVICE_ACCOUNT = 'system:serviceaccount:shepherd:shepherd';

export class PermissionModel {
  #denied: DeniedPermission[] = [];

  /** The permissions currently denied. */
  get denied(): readonly DeniedPermission[] {
    return this.#denied;
  }

  /** Replaces the denied permissions; an empty list allows everything again. */
  setDenied(denied: readonly DeniedPermission[]): void {
    this.#denied = denied.map((d) => ({ ...d }));
  }

  /** Whether the token may do `attrs`. A denial without namespace covers every namespace. */
  allows(attrs: AccessAttributes): boolean {
    return !this.#denied.some(
      (d) =>
        d.verb === attrs.verb &&
        d.group === attrs.group &&
        d.resource === attrs.resource &&
        (d.namespace === undefined || d.namespace === attrs.namespace),
    );
  }

  /** The reason a real RBAC authorizer gives when it allows (it names the binding; here, the sandbox's default). */
  static readonly ALLOWED_REASON = 'sandbox: the service account may do everything not denied';
}
