/**
 * Reads an env file in the shell-compatible subset that `config/infra.env` uses: `KEY=value`, optional `export `,
 * single or double quotes, `#` comments, and `${VAR}` / `$VAR` references to earlier keys or the environment.
 */
import { readFileSync } from 'node:fs';

/** One line of an env file that cannot be read; `line` is 1-based, 0 for the file as a whole. */
export interface EnvFileProblem {
  readonly line: number;
  readonly message: string;
}

/** An env file that cannot be used; the message lists every bad line at once, never a value. */
export class EnvFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly EnvFileProblem[],
  ) {
    super(
      problems.map((p) => `${file}:${p.line}: ${p.message}`).join('\n') +
        (problems.length > 1
          ? `\n${problems.length} lines of ${file} need fixing; fix them and run the command again.`
          : ''),
    );
    this.name = 'EnvFileError';
  }

  /** The first bad line. */
  get line(): number {
    return this.problems[0]!.line;
  }
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/** Parses the whole file and throws one `EnvFileError` naming every bad line. */
export function parseEnvFile(
  text: string,
  file: string,
  outer: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  const lookup = (name: string): string => out[name] ?? outer[name] ?? '';
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) {
      problems.push({ line: i + 1, message: 'expected KEY=value' });
      return;
    }
    const key = m[1]!;
    let value = m[2]!;
    if (value.startsWith("'")) {
      if (!value.endsWith("'") || value.length < 2)
        problems.push({ line: i + 1, message: `unterminated single quote in ${key}` });
      else out[key] = value.slice(1, -1);
      return;
    }
    if (value.startsWith('"')) {
      if (!value.endsWith('"') || value.length < 2) {
        problems.push({ line: i + 1, message: `unterminated double quote in ${key}` });
        return;
      }
      value = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[key] = value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (_, a: string | undefined, b: string | undefined) => lookup((a ?? b)!),
    );
  });
  if (problems.length > 0) throw new EnvFileError(file, problems);
  return out;
}

export function readEnvFile(file: string, outer: Record<string, string | undefined>): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new EnvFileError(file, [
      { line: 0, message: `cannot read the env file (${code}); check the path given to --vars-file` },
    ]);
  }
  return parseEnvFile(text, file, outer);
}
