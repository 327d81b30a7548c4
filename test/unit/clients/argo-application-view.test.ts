/**
 * Part C: how Shepherd reads an Argo CD Application's revision, single- or multi-source (real-installations.md §8.1):
 * the deployments repo's source is found by its repoURL (any Git URL form), preferring one that renders manifests.
 */
import { describe, expect, it } from 'vitest';
import { forSource, parseApplication, projectPathOf, sourceIndexOf } from '../../../src/clients/kubernetes/objects.js';

const DEPLOYMENTS = 'p2c/k8s-deployments';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

function multiSource(sources: Record<string, unknown>[], revisions: string[]) {
  return parseApplication({
    metadata: { name: 'example-app-dev', resourceVersion: '7' },
    spec: { sources },
    status: {
      sync: { status: 'Synced', revisions },
      health: { status: 'Healthy' },
      operationState: {
        phase: 'Succeeded',
        finishedAt: '2026-01-01T00:00:00Z',
        operation: { sync: { revisions } },
        syncResult: { revisions },
      },
    },
  });
}

describe('reading an Application through the deployments repo source', () => {
  it('names the project of https, ssh and scp-like Git URLs, with or without .git', () => {
    expect(projectPathOf('https://gitlab.example.com/p2c/k8s-deployments.git')).toBe(DEPLOYMENTS);
    expect(projectPathOf('https://gitlab.example.com/P2C/k8s-deployments/')).toBe(DEPLOYMENTS);
    expect(projectPathOf('ssh://git@gitlab.example.com:2222/p2c/k8s-deployments.git')).toBe(DEPLOYMENTS);
    expect(projectPathOf('git@gitlab.example.com:p2c/k8s-deployments.git')).toBe(DEPLOYMENTS);
    expect(projectPathOf('not a url')).toBeUndefined();
  });

  it("takes the deployments repo's entry of sync.revisions and of the operation's revisions", () => {
    const app = multiSource(
      [
        { repoURL: 'https://gitlab.example.com/p2c/example-app.git', targetRevision: 'main', ref: 'values' },
        { repoURL: 'https://gitlab.example.com/p2c/k8s-deployments.git', targetRevision: 'dev', path: 'manifests/x' },
      ],
      [A, B],
    );
    expect(app.multiSource).toBe(true);
    expect(app.sync.revision).toBeUndefined();
    const seen = forSource(app, DEPLOYMENTS);
    expect(seen.sync).toMatchObject({ status: 'Synced', revision: B });
    expect(seen.operation).toMatchObject({ phase: 'Succeeded', revision: B });
  });

  it('prefers the source with a path over a ref-only source of the same repo, and finds none for another repo', () => {
    const url = 'https://gitlab.example.com/p2c/k8s-deployments.git';
    const app = multiSource(
      [
        { repoURL: url, targetRevision: 'main', ref: 'values' },
        { repoURL: 'https://charts.example.com/', targetRevision: '1.2.3' },
        { repoURL: url, targetRevision: 'dev', path: 'manifests/x' },
      ],
      [A, C, B],
    );
    expect(sourceIndexOf(app, DEPLOYMENTS)).toBe(2);
    expect(forSource(app, DEPLOYMENTS).sync.revision).toBe(B);
    expect(forSource(app, 'other/repo').sync.revision).toBeUndefined();
  });

  it('leaves a single-source Application as Argo CD reports it', () => {
    const app = parseApplication({
      metadata: { name: 'example-app-dev' },
      spec: { source: { repoURL: 'https://elsewhere.example/x.git', targetRevision: 'dev', path: 'm' } },
      status: { sync: { status: 'OutOfSync', revision: A } },
    });
    expect(forSource(app, DEPLOYMENTS).sync).toMatchObject({ status: 'OutOfSync', revision: A });
  });
});
