import { EXIT, type Command } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the full three-environment validation on the embedded default (needs the validatePipeline workflow).',
  usage: '',
  help: `
The demo starts the embedded Temporal dev server, the sandbox world and a worker, and runs validatePipeline
through prod. The validatePipeline workflow is not part of Shepherd yet, so the demo cannot run; it says so and
exits 1 rather than pretend. Until then: \`npx shepherd dev-server\` runs the embedded Temporal with its Web UI.
`,
  options: {},
  async run(ctx) {
    ctx.err('shepherd demo: the validatePipeline workflow is not built yet, so there is nothing to demonstrate end to end.');
    ctx.err('Run `npx shepherd dev-server` for the embedded Temporal and its Web UI; see the README for the status.');
    return EXIT.failed;
  },
};
