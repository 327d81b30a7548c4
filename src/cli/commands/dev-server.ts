import { openTemporal } from '../../temporal/runtime.js';
import { EXIT, untilSignal, UsageError, type Command } from '../command.js';

export const devServerCommand: Command = {
  usage: '[--headless] [--json]',
  help: `
Starts \`temporal server start-dev\` from the Temporal CLI that \`npm run setup\` installed, with its database at
SHEPHERD_STATE_DIR/temporal.db (default .shepherd/state), gRPC on SHEPHERD_TEMPORAL_PORT (7233) and the Web UI
on SHEPHERD_UI_PORT (8233), and registers Shepherd's search attributes. Runs stay in the database across restarts.

Options:
  --headless   no Web UI
  --json       print {"address","namespace","uiUrl","dbFile"} as one line once the server is ready

Example:
  npx shepherd dev-server          # then open the printed UI address
`,
  options: { headless: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const config = ctx.config();
    if (config.temporal.address) {
      throw new UsageError(
        `TEMPORAL_ADDRESS is set (${config.temporal.address}): Shepherd uses that server and starts none. Unset it to run the embedded dev server.`,
      );
    }
    // Registered before the server starts, so that a SIGTERM while it starts still stops the `temporal` child.
    const stopRequested = untilSignal();
    const runtime = await openTemporal(config, { ui: !ctx.values.headless });
    const dbFile = `${config.temporal.stateDir}/temporal.db`;
    if (ctx.values.json) {
      ctx.out(
        JSON.stringify({
          address: runtime.target.address,
          namespace: runtime.target.namespace,
          uiUrl: runtime.uiUrl ?? null,
          dbFile,
        }),
      );
    } else {
      ctx.err(`Temporal dev server on ${runtime.target.address} (namespace ${runtime.target.namespace})`);
      ctx.err(`Database: ${dbFile}`);
      if (runtime.uiUrl) ctx.out(`Temporal Web UI: ${runtime.uiUrl}`);
      ctx.err('Press Ctrl-C to stop.');
    }
    const sig = await stopRequested;
    ctx.err(`Received ${sig}; stopping the dev server…`);
    await runtime.stop();
    return EXIT.ok;
  },
};
