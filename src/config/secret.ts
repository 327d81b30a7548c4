import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A credential read from configuration. It prints as `[redacted]` everywhere — template strings, JSON,
 * `util.inspect`, error messages — so that a config object can be logged or thrown without leaking it.
 * Only a client constructor calls `reveal()`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The plain value, for handing to a client library. Never log or return it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
