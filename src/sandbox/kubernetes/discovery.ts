/**
 * Discovery documents: `/version`, `/api`, `/apis`, and the APIResourceList of each served group version.
 */
import { RESOURCES, apiVersionOf, type ResourceType } from './resources.js';

const ALL: readonly ResourceType[] = Object.values(RESOURCES);

export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '30',
    gitVersion: 'v1.30.0-shepherd-sandbox',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.22.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(group: string): Record<string, unknown> {
  const versions = [...new Set(ALL.filter((r) => r.group === group).map((r) => r.version))];
  const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: entries, preferredVersion: entries[0] };
}

/** The non-core groups. */
export function groupNames(): string[] {
  return [...new Set(ALL.map((r) => r.group).filter((g) => g !== ''))];
}

export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupNames().map(groupEntry) };
}

/** The APIGroup document of one group, or undefined when the group is not served. */
export function apiGroup(group: string): Record<string, unknown> | undefined {
  if (!groupNames().includes(group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) };
}

/** The APIResourceList of one group version, or undefined when it is not served. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const resources = ALL.filter((r) => r.group === group && r.version === version);
  if (resources.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(resources[0]!),
    resources: resources.map((r) => ({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...r.verbs],
      ...(r.shortNames.length > 0 ? { shortNames: [...r.shortNames] } : {}),
      ...(r.categories ? { categories: [...r.categories] } : {}),
    })),
  };
}
