/** The workflow module the test bundle is built from: Shepherd's workflows plus the harness fixtures. */
export * from '../../workflows/index.js';
export * from './fixture-workflows.js';
