import { ConfigError } from '../../config/load.js';
import { EnvFileError } from '../../config/env-file.js';
import { VARIABLES } from '../../config/variables.js';
import { EXIT, UsageError, type Command, type CommandContext } from '../command.js';

export const configCommand: Command = {
  usage: '[check|variables] [--connect] [--json]',
  help: `
  shepherd config check       validate the environment (and --vars-file); exit 2 listing every problem, and warn
                              about SHEPHERD_*, GITLAB_*, JENKINS_*, TEMPORAL_* variables Shepherd does not read
  shepherd config variables   list every variable Shepherd reads, its rule and default

Options:
  --connect  with check: also connect to every system and check it for real (the same as \`shepherd doctor\`)
  --json     print the result as JSON, also when there are problems:
             {"ok":true,"config":{…},"warnings":[…]} or {"ok":false,"problems":[…],"warnings":[…]}
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
    if (ctx.values.connect) {
      const { config, warnings } = ctx.checkConfig();
      for (const w of warnings) ctx.err(`warning: ${w.message}`);
      // The doctor loads every client: only when asked for.
      return (await import('./doctor.js')).printDoctor(ctx, config);
    }
    if (ctx.values.json) return checkAsJson(ctx);
    const { config, warnings } = ctx.checkConfig();
    for (const w of warnings) ctx.err(`warning: ${w.message}`);
    ctx.out(
      `mode: ${config.mode}${config.mode === 'embedded' ? ' (sandbox world, embedded Temporal unless TEMPORAL_ADDRESS is set)' : ''}`,
    );
    ctx.out(JSON.stringify(config, null, 2));
    return EXIT.ok;
  },
};

/**
 * `config check --json`: one JSON object on stdout whatever the outcome, so that scripts parse one shape; the
 * messages still go to stderr and the exit code stays 2 on problems.
 */
function checkAsJson(ctx: CommandContext): number {
  try {
    const { config, warnings } = ctx.checkConfig();
    ctx.out(JSON.stringify({ ok: true, config, warnings }));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.out(JSON.stringify({ ok: false, problems: err.problems, warnings: err.warnings }));
    } else if (err instanceof EnvFileError) {
      const problems = err.problems.map((p) => ({ file: err.file, line: p.line, message: p.message }));
      ctx.out(JSON.stringify({ ok: false, envFile: err.file, problems, warnings: [] }));
    } else throw err;
    ctx.err(err.message);
    return EXIT.usage;
  }
}
