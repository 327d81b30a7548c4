/**
 * The small framework every `shepherd` subcommand is written in: parsed options, uniform `--help`, and the exit
 * codes users script against — 0 success, 1 the run failed, 2 usage or configuration error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, type ShepherdConfig } from '../config/load.js';
import { EnvFileError } from '../config/env-file.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Wrong flags or arguments; printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  /** Data output (stdout). */
  out(line: string): void;
  /** Progress and messages (stderr). */
  err(line: string): void;
  /** Loads the configuration, honouring `--env-file`. */
  config(): ShepherdConfig;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line after `shepherd <name>`. */
  readonly usage: string;
  /** Longer help: what it does, options, examples. */
  readonly help: string;
  readonly options: OptionSpec;
  run(ctx: CommandContext): Promise<number>;
}

export const COMMON_OPTIONS: OptionSpec = {
  help: { type: 'boolean', short: 'h' },
  'env-file': { type: 'string' },
};

export function helpText(cmd: Command): string {
  return `Usage: shepherd ${cmd.name} ${cmd.usage}\n\n${cmd.summary}\n\n${cmd.help.trim()}\n\nCommon options:\n  --env-file FILE   read configuration from FILE (infra.env style) before the environment\n  -h, --help        show this help\n`;
}

export async function runCommand(
  cmd: Command,
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void },
): Promise<number> {
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...cmd.options },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    io.err(`shepherd ${cmd.name}: ${(err as Error).message}`);
    io.err(`Usage: shepherd ${cmd.name} ${cmd.usage}   (see shepherd ${cmd.name} --help)`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.out(helpText(cmd));
    return EXIT.ok;
  }
  const envFile = parsed.values['env-file'] as string | undefined;
  const ctx: CommandContext = {
    values: parsed.values,
    positionals: parsed.positionals,
    out: io.out,
    err: io.err,
    config: () => loadConfig(envFile ? { envFile } : {}),
  };
  try {
    return await cmd.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`shepherd ${cmd.name}: ${err.message}`);
      io.err(`Usage: shepherd ${cmd.name} ${cmd.usage}   (see shepherd ${cmd.name} --help)`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError || err instanceof EnvFileError) {
      io.err(err.message);
      return EXIT.usage;
    }
    io.err(`shepherd ${cmd.name}: ${(err as Error).message}`);
    return EXIT.failed;
  }
}

/** Resolves when the process receives SIGINT or SIGTERM (Ctrl-C, `kill`). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(sig);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
