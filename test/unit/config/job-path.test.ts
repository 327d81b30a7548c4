import { describe, expect, it } from 'vitest';
import { jobSegments } from '../../../src/config/load.js';

describe('job paths from the configuration', () => {
  it('reads a multibranch branch job of feature/x from its item name or from its URL form', () => {
    expect(jobSegments('example-app/job/feature%2Fx')).toEqual(['example-app', 'feature%2Fx']);
    expect(jobSegments('example-app/job/feature%252Fx')).toEqual(['example-app', 'feature%2Fx']);
    expect(jobSegments('example-app/job/main')).toEqual(['example-app', 'main']);
    expect(jobSegments('folder%20one/job/promote')).toEqual(['folder one', 'promote']);
  });
});
