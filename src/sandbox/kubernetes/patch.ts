/**
 * The two patch formats the API server accepts for every kind: JSON merge patch (RFC 7386) and JSON patch
 * (RFC 6902, including `test`).
 */
import { clone, isPlainObject, jsonEqual } from './objects.js';

/** A patch that cannot be applied; the server answers 422 Invalid (or 400 for a malformed document). */
export class PatchError extends Error {
  constructor(
    message: string,
    readonly malformed = false,
  ) {
    super(message);
  }
}

/** RFC 7386: objects merge recursively, `null` deletes a key, everything else (arrays too) replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`, true);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function resolveParent(doc: unknown, tokens: string[], pointer: string): { parent: Container; last: string } {
  if (tokens.length === 0) throw new PatchError(`the root document cannot be the target of "${pointer}"`);
  let node: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, pointer, false)];
    else if (isPlainObject(node) && Object.prototype.hasOwnProperty.call(node, t)) node = node[t];
    else throw new PatchError(`doc is missing path: "${pointer}"`);
  }
  if (!Array.isArray(node) && !isPlainObject(node)) throw new PatchError(`doc is missing path: "${pointer}"`);
  return { parent: node, last: tokens[tokens.length - 1]! };
}

function arrayIndex(arr: unknown[], token: string, pointer: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index "${token}" in "${pointer}"`);
  const i = Number(token);
  if (i > arr.length || (!forInsert && i >= arr.length))
    throw new PatchError(`array index ${i} out of bounds in "${pointer}"`);
  return i;
}

function getAt(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, pointer, false)];
    else if (isPlainObject(node) && Object.prototype.hasOwnProperty.call(node, t)) node = node[t];
    else throw new PatchError(`doc is missing path: "${pointer}"`);
  }
  return node;
}

function removeAt(doc: unknown, pointer: string): unknown {
  const { parent, last } = resolveParent(doc, parsePointer(pointer), pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, pointer, false), 1)[0];
  if (!Object.prototype.hasOwnProperty.call(parent, last)) throw new PatchError(`doc is missing path: "${pointer}"`);
  const old = parent[last];
  delete parent[last];
  return old;
}

function addAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return clone(value);
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, pointer, true), 0, clone(value));
  else parent[last] = clone(value);
  return doc;
}

function replaceAt(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return clone(value);
  const { parent, last } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, pointer, false)] = clone(value);
  else {
    if (!Object.prototype.hasOwnProperty.call(parent, last)) throw new PatchError(`doc is missing key: "${pointer}"`);
    parent[last] = clone(value);
  }
  return doc;
}

/** RFC 6902 on a copy of `target`; throws `PatchError` when an operation fails (a failed `test` included). */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError('json patch must be an array of operations', true);
  let doc = clone(target);
  for (const raw of patch) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError('each json patch operation needs string "op" and "path"', true);
    }
    const op = raw as unknown as Operation;
    const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needsValue && !('value' in raw))
      throw new PatchError(`operation "${op.op}" on "${op.path}" is missing "value"`, true);
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, op.value);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'replace':
        doc = replaceAt(doc, op.path, op.value);
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw new PatchError('"move" needs "from"', true);
        const v = removeAt(doc, op.from);
        doc = addAt(doc, op.path, v);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError('"copy" needs "from"', true);
        doc = addAt(doc, op.path, getAt(doc, op.from));
        break;
      }
      case 'test': {
        const actual = getAt(doc, op.path);
        if (!jsonEqual(actual, op.value)) throw new PatchError(`testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`unexpected kind: ${op.op}`, true);
    }
  }
  return doc;
}
