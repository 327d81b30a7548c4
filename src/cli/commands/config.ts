import { unknownVariables } from '../../config/load.js';
import { VARIABLES } from '../../config/variables.js';
import { EXIT, UsageError, type Command } from '../command.js';

export const configCommand: Command = {
  usage: '[check|variables] [--connect] [--json]',
  help: `
  shepherd config check       validate the environment (and --env-file); exit 2 listing every problem
  shepherd config variables   list every variable Shepherd reads, its rule and default

Options:
  --connect  with check: also connect to every system and check it for real (the same as \`shepherd doctor\`)
  --json     print the result as JSON
`,
  options: { json: { type: 'boolean' }, connect: { type: 'boolean' } },
  async run(ctx) {
    const sub = ctx.positionals[0] ?? 'check';
    if (sub === 'variables') {
      if (ctx.values.json) ctx.out(JSON.stringify(VARIABLES.map(({ schema: _s, ...rest }) => rest)));
      else
        for (const v of VARIABLES)
          ctx.out(
            `${v.name.padEnd(36)} ${v.secret ? '(secret) ' : ''}${v.rule}${v.default ? ` [default ${v.default}]` : ''}`,
          );
      return EXIT.ok;
    }
    if (sub !== 'check') throw new UsageError(`unknown subcommand ${sub} (use check or variables)`);
    const config = ctx.config();
    for (const name of unknownVariables(process.env))
      ctx.err(`warning: ${name} is not a variable Shepherd knows; check its spelling (shepherd config variables).`);
    // The doctor loads every client: only when asked for.
    if (ctx.values.connect) return (await import('./doctor.js')).printDoctor(ctx, config);
    if (ctx.values.json) ctx.out(JSON.stringify(config));
    else {
      ctx.out(
        `mode: ${config.mode}${config.mode === 'embedded' ? ' (sandbox world, embedded Temporal unless TEMPORAL_ADDRESS is set)' : ''}`,
      );
      ctx.out(JSON.stringify(config, null, 2));
    }
    return EXIT.ok;
  },
};
