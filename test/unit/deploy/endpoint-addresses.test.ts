/**
 * SHEPHERD_HEALTH_ADDRESS and SHEPHERD_METRICS_ADDRESS: off when unset, a bare port stays on 127.0.0.1, a pod
 * names 0.0.0.0:PORT, and a port out of range is a configuration problem.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.js';

describe('the worker endpoint addresses', () => {
  it('are off by default', () => {
    expect(loadConfig({ env: {} }).observability).toEqual({
      healthAddress: undefined,
      metricsAddress: undefined,
      logLevel: 'INFO',
      logFormat: undefined,
      otlpEndpoint: undefined,
      otlpHeaders: undefined,
      serviceName: 'shepherd-worker',
    });
  });

  it('bind a bare port to 127.0.0.1 and keep host:port as given', () => {
    const config = loadConfig({ env: { SHEPHERD_HEALTH_ADDRESS: '8080', SHEPHERD_METRICS_ADDRESS: '0.0.0.0:9464' } });
    expect(config.observability).toMatchObject({ healthAddress: '127.0.0.1:8080', metricsAddress: '0.0.0.0:9464' });
  });

  it('reject what is not a port or host:port', () => {
    for (const bad of ['99999', 'localhost', 'http://0.0.0.0:9464', '0.0.0.0:']) {
      expect(() => loadConfig({ env: { SHEPHERD_METRICS_ADDRESS: bad } }), bad).toThrow(ConfigError);
    }
  });
});
