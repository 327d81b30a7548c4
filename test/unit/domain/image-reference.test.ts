import { describe, expect, it } from 'vitest';
import { imageDigestOf, imageRepository, imageTagOf, shortDigest } from '../../../src/domain/image-reference.js';
import {
  currentReplicaSet,
  labelSelectorString,
  podsOfReplicaSet,
  selectorMatches,
  type PodView,
  type ReplicaSetView,
} from '../../../src/clients/kubernetes/index.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  it('reads the tag of a reference, not the registry port, and ignores a digest', () => {
    expect(imageTagOf('reg:5000/p2c/example-app:1.2.3')).toBe('1.2.3');
    expect(imageTagOf('reg:5000/p2c/example-app')).toBeUndefined();
    expect(imageTagOf('reg:5000/p2c/example-app:1.2.3@sha256:abc')).toBe('1.2.3');
    expect(imageTagOf('reg:5000/p2c/example-app@sha256:abc')).toBeUndefined();
    expect(imageTagOf('example-app:')).toBeUndefined();
    expect(imageTagOf('')).toBeUndefined();
  });

  it('reads the repository: everything before the tag or digest', () => {
    expect(imageRepository('reg:5000/p2c/example-app:1.2.3')).toBe('reg:5000/p2c/example-app');
    expect(imageRepository('reg:5000/p2c/example-app@sha256:abc')).toBe('reg:5000/p2c/example-app');
    expect(imageRepository('example-app')).toBe('example-app');
  });

  it('reads the digest a reference is pinned to, and the one a runtime reports as imageID', () => {
    expect(imageDigestOf(`reg:5000/p2c/example-app:1.2.3@${D}`)).toBe(D);
    expect(imageDigestOf(`reg:5000/p2c/example-app@${D}`)).toBe(D);
    expect(imageDigestOf(`docker-pullable://reg:5000/p2c/example-app@${D}`)).toBe(D);
    expect(imageDigestOf(D.toUpperCase().replace('SHA256', 'sha256'))).toBe(D);
    expect(imageDigestOf('reg:5000/p2c/example-app:1.2.3')).toBeUndefined();
    expect(imageDigestOf('reg/app@sha256:short')).toBeUndefined();
    expect(shortDigest(D)).toBe('sha256:abababababab');
  });
});

describe('selectors and the current ReplicaSet', () => {
  const selector = {
    matchLabels: { app: 'web', deployment: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In' as const, values: ['front', 'api'] },
      { key: 'canary', operator: 'DoesNotExist' as const, values: [] },
    ],
  };

  it('writes a LabelSelector as the labelSelector parameter, matchLabels AND every matchExpression', () => {
    expect(labelSelectorString(selector)).toBe('app=web,deployment=web,tier in (api,front),!canary');
    expect(selectorMatches(selector, { app: 'web', deployment: 'web', tier: 'api' })).toBe(true);
    expect(selectorMatches(selector, { app: 'web', deployment: 'web', tier: 'api', canary: 'yes' })).toBe(false);
    expect(selectorMatches(selector, { app: 'web', deployment: 'web' })).toBe(false);
    expect(selectorMatches(selector, { app: 'web', tier: 'api' })).toBe(false);
  });

  const rs = (name: string, ownerUid: string, revision: number): ReplicaSetView => ({
    name,
    uid: `uid-${name}`,
    ownerUid,
    revision,
    podTemplateHash: name.split('-').at(-1),
    replicas: 1,
    selector: { matchLabels: { app: 'web', 'pod-template-hash': name.split('-').at(-1)! }, matchExpressions: [] },
    containers: [],
  });

  it("takes the Deployment's ReplicaSet with the highest revision, and the pods it controls with its hash", () => {
    const sets = [rs('web-aaa', 'dep', 4), rs('web-bbb', 'dep', 5), rs('web-ccc', 'other', 9)];
    const current = currentReplicaSet({ uid: 'dep' }, sets)!;
    expect(current.name).toBe('web-bbb');
    expect(currentReplicaSet({ uid: 'none' }, sets)).toBeUndefined();
    const pod = (name: string, owner: string, hash: string): PodView => ({
      name,
      labels: { app: 'web', 'pod-template-hash': hash },
      ownerUid: owner,
      phase: 'Running',
      terminating: false,
      ready: true,
      containers: [],
    });
    const pods = [
      pod('web-bbb-1', 'uid-web-bbb', 'bbb'),
      pod('web-aaa-1', 'uid-web-aaa', 'aaa'),
      pod('web-ccc-1', 'uid-web-ccc', 'ccc'),
      pod('stray', 'uid-web-bbb', 'zzz'),
    ];
    expect(podsOfReplicaSet(current, pods).map((p) => p.name)).toEqual(['web-bbb-1']);
  });
});
