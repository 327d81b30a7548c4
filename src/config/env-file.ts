/**
 * Reads an env file in the shell-compatible subset that `config/infra.env` uses: `KEY=value`, optional `export `,
 * single or double quotes, `#` comments, and `${VAR}` / `$VAR` references to earlier keys or the environment.
 */
import { readFileSync } from 'node:fs';

export class EnvFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'EnvFileError';
  }
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

export function parseEnvFile(
  text: string,
  file: string,
  outer: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const lookup = (name: string): string => out[name] ?? outer[name] ?? '';
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) throw new EnvFileError(file, i + 1, 'expected KEY=value');
    const key = m[1]!;
    let value = m[2]!;
    if (value.startsWith("'")) {
      if (!value.endsWith("'") || value.length < 2)
        throw new EnvFileError(file, i + 1, `unterminated single quote in ${key}`);
      out[key] = value.slice(1, -1);
      return;
    }
    if (value.startsWith('"')) {
      if (!value.endsWith('"') || value.length < 2)
        throw new EnvFileError(file, i + 1, `unterminated double quote in ${key}`);
      value = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out[key] = value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (_, a: string | undefined, b: string | undefined) => lookup((a ?? b)!),
    );
  });
  return out;
}

export function readEnvFile(file: string, outer: Record<string, string | undefined>): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EnvFileError(
      file,
      0,
      `cannot read the env file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseEnvFile(text, file, outer);
}
