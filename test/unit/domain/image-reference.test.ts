import { describe, expect, it } from 'vitest';
import { imageRepository, imageTagOf } from '../../../src/domain/image-reference.js';

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
});
