/**
 * Jenkins' `?tree=` filter for the JSON API: `number,result,actions[parameters[name,value]],builds[number]{0,10}`.
 * Only the named fields are kept at each level (plus `_class`, which Jenkins always emits); `{M,N}` limits an
 * array to a range. A malformed spec is answered the way Jenkins does, with a 400 (`TreeSyntaxError`).
 */

export interface TreeNode {
  readonly fields: Map<string, { sub: TreeNode | undefined; range: [number, number] | undefined }>;
}

export class TreeSyntaxError extends Error {
  override readonly name = 'TreeSyntaxError';
}

export function parseTree(spec: string): TreeNode {
  let pos = 0;
  const parseLevel = (): TreeNode => {
    const fields: TreeNode['fields'] = new Map();
    for (;;) {
      const m = /^[A-Za-z0-9_$]+/.exec(spec.slice(pos));
      if (!m) throw new TreeSyntaxError(`Unexpected token at ${pos} in ${spec}`);
      pos += m[0].length;
      let sub: TreeNode | undefined;
      let range: [number, number] | undefined;
      if (spec[pos] === '[') {
        pos++;
        sub = parseLevel();
        if (spec[pos] !== ']') throw new TreeSyntaxError(`Expected ] at ${pos} in ${spec}`);
        pos++;
      }
      if (spec[pos] === '{') {
        const end = spec.indexOf('}', pos);
        if (end < 0) throw new TreeSyntaxError(`Expected } in ${spec}`);
        range = parseRange(spec.slice(pos + 1, end));
        pos = end + 1;
      }
      fields.set(m[0], { sub, range });
      if (spec[pos] !== ',') return { fields };
      pos++;
    }
  };
  const tree = parseLevel();
  if (pos !== spec.length) throw new TreeSyntaxError(`Unexpected token at ${pos} in ${spec}`);
  return tree;
}

function parseRange(s: string): [number, number] {
  const parts = s.split(',');
  const num = (x: string | undefined, dflt: number): number => {
    if (x === undefined || x.trim() === '') return dflt;
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0) throw new TreeSyntaxError(`Invalid range {${s}}`);
    return n;
  };
  if (parts.length === 1) {
    const n = num(parts[0], 0);
    return [n, n + 1];
  }
  return [num(parts[0], 0), num(parts[1], Number.MAX_SAFE_INTEGER)];
}

/** Applies a parsed tree to a JSON value. */
export function applyTree(value: unknown, tree: TreeNode | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => applyTree(v, tree));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if ('_class' in obj) out._class = obj._class;
  if (!tree) return out;
  for (const [name, { sub, range }] of tree.fields) {
    if (!(name in obj)) continue;
    let v = obj[name];
    if (Array.isArray(v) && range) v = v.slice(range[0], range[1]);
    out[name] = isContainer(v) && !sub ? applyLeaf(v) : applyTree(v, sub);
  }
  return out;
}

/** A field named without a sub-tree: scalars and arrays of scalars as they are, objects reduced to `_class`. */
function applyLeaf(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (isContainer(x) ? applyLeaf(x) : x));
  return applyTree(v, undefined);
}

function isContainer(v: unknown): boolean {
  return v !== null && typeof v === 'object';
}
