/**
 * Turning submitted form or query fields into parameter values the way Jenkins' parameter definitions do:
 * a missing field takes the default, unknown fields are dropped (SECURITY-170), choices are checked.
 */
import type { BuildParams, ParameterDefinition, ParameterValue } from './types.js';

/** A submitted value Jenkins refuses; the message is the one Jenkins puts in its 400 page. */
export class IllegalParameterError extends Error {
  override readonly name = 'IllegalParameterError';
}

/** The value a definition takes when nothing is submitted for it. */
export function defaultValue(def: ParameterDefinition): ParameterValue {
  switch (def.type) {
    case 'string':
      return { type: 'string', name: def.name, value: def.default ?? '' };
    case 'choice':
      return { type: 'string', name: def.name, value: def.choices[0] };
    case 'boolean':
      return { type: 'boolean', name: def.name, value: def.default ?? false };
  }
}

/**
 * Resolves every definition against the submitted fields, in definition order.
 * Throws `IllegalParameterError` for a choice outside its choices.
 */
export function resolveParameters(
  defs: readonly ParameterDefinition[],
  submitted: ReadonlyMap<string, string>,
): ParameterValue[] {
  return defs.map((def) => {
    const raw = submitted.get(def.name);
    if (raw === undefined) return defaultValue(def);
    switch (def.type) {
      case 'string':
        return { type: 'string', name: def.name, value: def.trim ? raw.trim() : raw };
      case 'choice':
        if (!def.choices.includes(raw))
          throw new IllegalParameterError(`Illegal choice for parameter ${def.name}: ${raw}`);
        return { type: 'string', name: def.name, value: raw };
      case 'boolean':
        return { type: 'boolean', name: def.name, value: raw.toLowerCase() === 'true' };
    }
  });
}

/** Accepts runner-style values (from controllers) as submitted fields. */
export function toSubmitted(params: Readonly<Record<string, string | boolean | number>>): Map<string, string> {
  return new Map(Object.entries(params).map(([k, v]) => [k, String(v)]));
}

export function paramsRecord(values: readonly ParameterValue[]): BuildParams {
  return Object.fromEntries(values.map((v) => [v.name, v.value]));
}

/** True when both lists hold the same names and values (Jenkins' queue folds such items into one). */
export function sameParameters(a: readonly ParameterValue[], b: readonly ParameterValue[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((v, i) => b[i]?.name === v.name && b[i]?.value === v.value);
}
