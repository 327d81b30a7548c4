import { describe, expect, it } from 'vitest';
import {
  SelectorParseError,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/sandbox/kubernetes/label-selector.js';
import { PatchError, applyJsonPatch, applyMergePatch } from '../../src/sandbox/kubernetes/patch.js';

describe('merge patch (RFC 7386)', () => {
  it('merges objects, deletes keys set to null and replaces arrays whole', () => {
    const target = { a: { b: 1, c: [1, 2] }, d: 'x', keep: true };
    expect(applyMergePatch(target, { a: { b: null, c: [3] }, d: { e: 1 } })).toEqual({
      a: { c: [3] },
      d: { e: 1 },
      keep: true,
    });
    expect(target).toEqual({ a: { b: 1, c: [1, 2] }, d: 'x', keep: true });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { labels: { 'a/b': 'x' } }, list: [1, 2, 3] };

  it('applies add, remove, replace, move and copy, with escaped pointers and the "-" index', () => {
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'remove', path: '/list/0' },
      { op: 'replace', path: '/metadata/labels/a~1b', value: 'y' },
      { op: 'copy', from: '/metadata/labels', path: '/copied' },
      { op: 'move', from: '/copied', path: '/moved' },
      { op: 'test', path: '/list', value: [2, 3, 4] },
    ]);
    expect(out).toEqual({ metadata: { labels: { 'a/b': 'y' } }, list: [2, 3, 4], moved: { 'a/b': 'y' } });
    expect(doc.list).toEqual([1, 2, 3]);
  });

  it('refuses a failing test, a missing path and a malformed document', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/list/0', value: 9 }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/nope', value: 1 }])).toThrow(/missing/);
    expect(() => applyJsonPatch(doc, { op: 'add' })).toThrow(PatchError);
    let malformed: PatchError | undefined;
    try {
      applyJsonPatch(doc, [{ op: 'frobnicate', path: '/x' }]);
    } catch (err) {
      malformed = err as PatchError;
    }
    expect(malformed?.malformed).toBe(true);
  });
});

describe('label and field selectors', () => {
  const labels = { app: 'example-app', environment: 'stage', tier: 'web' };

  it('matches equality, set-based and existence requirements', () => {
    expect(parseLabelSelector('app=example-app,environment==stage').matches(labels)).toBe(true);
    expect(parseLabelSelector('environment!=prod,tier in (web, api),!debug').matches(labels)).toBe(true);
    expect(parseLabelSelector('environment notin (stage)').matches(labels)).toBe(false);
    expect(parseLabelSelector('debug').matches(labels)).toBe(false);
    expect(parseLabelSelector('').matches(undefined)).toBe(true);
  });

  it('refuses malformed selectors', () => {
    expect(() => parseLabelSelector('a in (b')).toThrow(SelectorParseError);
    expect(() => parseFieldSelector('spec.nodeName=x')).toThrow(SelectorParseError);
  });

  it('filters on metadata.name and metadata.namespace', () => {
    const f = parseFieldSelector('metadata.name=example-app,metadata.namespace!=prod');
    expect(f({ name: 'example-app', namespace: 'dev' })).toBe(true);
    expect(f({ name: 'example-app', namespace: 'prod' })).toBe(false);
  });
});
