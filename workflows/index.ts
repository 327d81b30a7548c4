/**
 * The one module the worker loads: every workflow Shepherd runs is exported from here.
 * Workflow code is deterministic and bundled; it may import `@temporalio/workflow`, `src/domain/` and,
 * as `import type`, the activities. ESLint enforces this (see eslint.config.js).
 */
export { promoteEnvironment } from './promote-environment.js';
export { validatePipeline } from './validate-pipeline.js';
export { holdValidationLock } from './hold-validation-lock.js';
export { fanOutApps } from './fan-out.js';
