/**
 * `Status` objects, the body of every error the API server returns (api-contracts.md §6.3).
 */
import { json, type SandboxResponse } from '../core/http.js';
import { qualifiedName, type ResourceType } from './resources.js';

export const STATUS_REASONS = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Expired: 410,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
} as const;
export type StatusReason = keyof typeof STATUS_REASONS;

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message: string; field?: string }[];
}

/** The Status object for a failure. */
export function statusObject(reason: StatusReason, message: string, details?: StatusDetails): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code: STATUS_REASONS[reason],
  };
}

/** A response carrying a failure Status with the code of its reason. */
export function statusResponse(reason: StatusReason, message: string, details?: StatusDetails): SandboxResponse {
  return json(STATUS_REASONS[reason], statusObject(reason, message, details));
}

/** Details naming one object of a resource type, as the API server fills them. */
export function objectDetails(resource: ResourceType, name: string): StatusDetails {
  return { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.plural };
}

/** `deployments.apps "web" not found`. */
export function notFound(resource: ResourceType, name: string): SandboxResponse {
  return statusResponse('NotFound', `${qualifiedName(resource)} "${name}" not found`, objectDetails(resource, name));
}
