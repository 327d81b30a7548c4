import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withConfigurationTable } from '../../../src/config/reference.js';

describe('the README configuration reference', () => {
  it('matches the variables the code reads (run `npm run docs:config` after changing them)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withConfigurationTable(readme));
  });
});
