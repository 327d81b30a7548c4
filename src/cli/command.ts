/**
 * The small framework every `shepherd` subcommand is written in: parsed options, uniform `--help`, and the exit
 * codes users script against — 0 success, 1 the run failed, 2 usage or configuration error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkConfig, ConfigError, editDistance, type ConfigWarning, type ShepherdConfig } from '../config/load.js';
import { EnvFileError } from '../config/env-file.js';
import { PipelineFileError } from '../config/pipeline-file.js';

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
  /**
   * Loads the configuration, honouring `--vars-file` and `--pipeline`; `overrides` win over the environment and the
   * file (a sandbox world's settings), `--pipeline` over everything.
   */
  config(overrides?: Readonly<Record<string, string>>): ShepherdConfig;
  /** Loads the configuration and names the variables it ignored as likely typos (`config check`, the worker). */
  checkConfig(): { config: ShepherdConfig; warnings: ConfigWarning[] };
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
  'vars-file': { type: 'string' },
  pipeline: { type: 'string' },
};

/**
 * Node.js reads `--env-file` itself wherever it stands on the command line, even after the script: it exits 9 with
 * `node: FILE: not found` before Shepherd runs when the file is missing (nodejs/node#54232; only an argument after
 * `--` is left alone since the fix in nodejs/node#54237). Shepherd's option is therefore `--vars-file`; the old
 * spelling, when it gets through, is refused with the new name rather than read.
 */
const NODE_OWNED_OPTION = /^--env-file(=|$)/;

/** The option names a command accepts, with their dashes. */
function optionNames(options: OptionSpec): string[] {
  return Object.entries(options).flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]);
}

/** What to tell the user for a parser error: the unknown option with the nearest known one, or the parser's words. */
function parseErrorMessage(err: Error & { code?: string }, options: OptionSpec): string {
  const unknown = /^Unknown option '([^']+)'/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const given = unknown[1]!;
    const known = optionNames(options).filter((n) => n.startsWith('--'));
    const nearest = known
      .map((n) => ({ n, d: editDistance(given, n) }))
      .sort((a, b) => a.d - b.d)
      .find((x) => x.d <= Math.max(2, Math.floor(given.length / 3)));
    return `unknown option ${given}${nearest ? `; did you mean ${nearest.n}?` : ''}`;
  }
  const missing = /^Option '(-\S+)(?:, (--\S+))? <value>' argument missing/.exec(err.message);
  if (missing) return `${missing[2] ?? missing[1]} needs a value`;
  const strayValue = /^Option '(-\S+)(?:, (--\S+))?' does not take an argument/.exec(err.message);
  if (strayValue) return `${strayValue[2] ?? strayValue[1]} takes no value`;
  return err.message;
}

export function helpText(entry: CommandEntry, cmd: Command): string {
  return `Usage: shepherd ${entry.name} ${cmd.usage}\n\n${entry.summary}\n\n${cmd.help.trim()}\n\nCommon options:\n  --vars-file FILE  read configuration from FILE (infra.env style) before the environment\n  --pipeline FILE   the pipeline file (YAML: environments, apps, promotion); overrides SHEPHERD_PIPELINE\n  -h, --help        show this help\n`;
}

export async function runCommand(entry: CommandEntry, argv: string[], io: CommandIo): Promise<number> {
  const cmd = await entry.load();
  const name = entry.name;
  const usageLine = `Usage: shepherd ${name} ${cmd.usage}   (see shepherd ${name} --help)`;
  const ownOptions = argv.indexOf('--') < 0 ? argv : argv.slice(0, argv.indexOf('--'));
  if (ownOptions.some((a) => NODE_OWNED_OPTION.test(a))) {
    io.err(
      `shepherd ${name}: --env-file is now --vars-file: Node.js reads --env-file itself (and stops with "node: FILE: not found" when the file is missing), so Shepherd cannot use that name. Give the file with --vars-file FILE instead.`,
    );
    io.err(usageLine);
    return EXIT.usage;
  }
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...cmd.options },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    io.err(`shepherd ${name}: ${parseErrorMessage(err as Error, { ...COMMON_OPTIONS, ...cmd.options })}`);
    io.err(usageLine);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.out(helpText(entry, cmd));
    return EXIT.ok;
  }
  const envFile = parsed.values['vars-file'] as string | undefined;
  const pipelineFile = parsed.values['pipeline'] as string | undefined;
  const check = (
    overrides?: Readonly<Record<string, string>>,
  ): { config: ShepherdConfig; warnings: ConfigWarning[] } => {
    const all = { ...overrides, ...(pipelineFile !== undefined ? { SHEPHERD_PIPELINE: pipelineFile } : {}) };
    return checkConfig({ ...(envFile ? { envFile } : {}), ...(Object.keys(all).length > 0 ? { overrides: all } : {}) });
  };
  const ctx: CommandContext = {
    values: parsed.values,
    positionals: parsed.positionals,
    out: io.out,
    err: io.err,
    config: (overrides) => check(overrides).config,
    checkConfig: () => check(),
  };
  try {
    return await cmd.run(ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`shepherd ${name}: ${err.message}`);
      io.err(usageLine);
      return EXIT.usage;
    }
    if (err instanceof ConfigError || err instanceof EnvFileError || err instanceof PipelineFileError) {
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
