/**
 * Kubernetes label and field selectors in their string form
 * (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`).
 */

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'absent'; key: string };

/** Thrown for a selector the API server would refuse with 400 BadRequest. */
export class SelectorParseError extends Error {}

/** A parsed selector: matches a label map. The empty selector matches everything. */
export interface Selector {
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function checkKey(key: string, source: string): string {
  if (!KEY.test(key))
    throw new SelectorParseError(`unable to parse requirement: invalid label key "${key}" in "${source}"`);
  return key;
}

function checkValue(value: string, source: string): string {
  if (!VALUE.test(value))
    throw new SelectorParseError(`unable to parse requirement: invalid label value "${value}" in "${source}"`);
  return value;
}

function parseRequirement(part: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (set) {
    const values = set[3]!.split(',').map((v) => checkValue(v.trim(), part));
    return { op: set[2] === 'in' ? 'in' : 'notin', key: checkKey(set[1]!, part), values };
  }
  const neq = /^([^=!\s]+)\s*!=\s*(.*)$/.exec(part);
  if (neq) return { op: 'neq', key: checkKey(neq[1]!, part), value: checkValue(neq[2]!.trim(), part) };
  const eq = /^([^=!\s]+)\s*==?\s*(.*)$/.exec(part);
  if (eq) return { op: 'eq', key: checkKey(eq[1]!, part), value: checkValue(eq[2]!.trim(), part) };
  if (part.startsWith('!')) return { op: 'absent', key: checkKey(part.slice(1).trim(), part) };
  return { op: 'exists', key: checkKey(part, part) };
}

function matchOne(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case 'eq':
      return has && v === r.value;
    case 'neq':
      return !has || v !== r.value;
    case 'in':
      return has && r.values.includes(v!);
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'exists':
      return has;
    case 'absent':
      return !has;
  }
}

/** Parses a label selector; throws `SelectorParseError` on bad syntax. */
export function parseLabelSelector(source: string | null | undefined): Selector {
  const requirements = splitTopLevel(source ?? '').map(parseRequirement);
  return { matches: (labels) => requirements.every((r) => matchOne(r, labels ?? {})) };
}

/** Builds a selector string from a `matchLabels` map (`a=b,c=d`). */
export function selectorFromLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * Parses a field selector over the fields every kind supports (`metadata.name`, `metadata.namespace`);
 * other fields are refused like the API server does for unsupported ones.
 */
export function parseFieldSelector(
  source: string | null | undefined,
): (meta: { name: string; namespace?: string | undefined }) => boolean {
  const parts = splitTopLevel(source ?? '');
  const tests = parts.map((part) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorParseError(`invalid selector: '${part}'; can't understand '${part}'`);
    const field = m[1]!.trim();
    const value = m[3]!.trim();
    const negate = m[2] === '!=';
    if (field !== 'metadata.name' && field !== 'metadata.namespace') {
      throw new SelectorParseError(`field label not supported: ${field}`);
    }
    return (meta: { name: string; namespace?: string | undefined }) => {
      const actual = field === 'metadata.name' ? meta.name : (meta.namespace ?? '');
      return negate ? actual !== value : actual === value;
    };
  });
  return (meta) => tests.every((t) => t(meta));
}
