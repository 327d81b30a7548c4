/**
 * Shepherd's custom search attributes. Workflows keep them current so that the Web UI and
 * `temporal workflow list --query "ShepherdApp = 'example-app' AND ShepherdStatus = 'waiting-approval'"` filter runs.
 * Registered on the embedded dev server at start and idempotently through the operator API.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const ShepherdApp = defineSearchAttributeKey('ShepherdApp', SearchAttributeType.KEYWORD);
export const ShepherdEnvironment = defineSearchAttributeKey('ShepherdEnvironment', SearchAttributeType.KEYWORD);
export const ShepherdImageTag = defineSearchAttributeKey('ShepherdImageTag', SearchAttributeType.KEYWORD);
export const ShepherdStatus = defineSearchAttributeKey('ShepherdStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [ShepherdApp, ShepherdEnvironment, ShepherdImageTag, ShepherdStatus] as const;
