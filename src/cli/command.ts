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

/** Where a command's output goes: stdout (data) and stderr (progress and messages), a line at a time. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
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

/**
 * What the top-level help needs of a command, known without loading it: `load` imports the command's module only
 * when it runs, so `shepherd approve` does not pay for the imports of `demo` or `worker`.
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

export interface Command {
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

export function helpText(entry: CommandEntry, cmd: Command): string {
  return `Usage: shepherd ${entry.name} ${cmd.usage}\n\n${entry.summary}\n\n${cmd.help.trim()}\n\nCommon options:\n  --env-file FILE   read configuration from FILE (infra.env style) before the environment\n  -h, --help        show this help\n`;
}

export async function runCommand(entry: CommandEntry, argv: string[], io: CommandIo): Promise<number> {
  const cmd = await entry.load();
  const name = entry.name;
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...cmd.options },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    io.err(`shepherd ${name}: ${(err as Error).message}`);
    io.err(`Usage: shepherd ${name} ${cmd.usage}   (see shepherd ${name} --help)`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.out(helpText(entry, cmd));
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
      io.err(`shepherd ${name}: ${err.message}`);
      io.err(`Usage: shepherd ${name} ${cmd.usage}   (see shepherd ${name} --help)`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError || err instanceof EnvFileError) {
      io.err(err.message);
      return EXIT.usage;
    }
    io.err(`shepherd ${name}: ${(err as Error).message}`);
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
