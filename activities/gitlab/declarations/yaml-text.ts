/**
 * Editing YAML files of the deployments repo without reformatting them. The `yaml` package's Document API finds the
 * nodes; a changed scalar is then written back into the source text at the node's `range`, in the quote style it
 * had, so comments, blank lines, key order, flow collections and long lines stay exactly as the team wrote them (a
 * `toString()` round trip can re-wrap lines, re-quote strings and re-indent sequences). Structural changes that have
 * no text in the file yet (a key to add) go through `setIn` + `toString`, and only when the file survives that round
 * trip unchanged; otherwise the error says which key to add by hand.
 */
import { isScalar, parse, parseAllDocuments, Scalar, type Document, type Node, type YAMLMap } from 'yaml';
import { ValidationError } from '../../../src/domain/errors.js';

/** A file's documents (one for most files, several for a `---`-separated manifest); throws naming the file. */
export function yamlDocuments(content: string, path: string): Document.Parsed[] {
  const parsed = parseAllDocuments(content);
  const docs = Array.isArray(parsed) ? parsed : [];
  const problem = docs.flatMap((d) => d.errors)[0];
  if (problem)
    throw new ValidationError(
      'imageDeclarations',
      'must be valid YAML',
      `${path} is not valid YAML (${problem.message.split('\n')[0]}); fix the file in the deployments repo`,
    );
  return docs;
}

/** The scalar value of `key` in a map node, as a string; undefined when the key is absent or not a scalar. */
export function scalarText(map: YAMLMap, key: string): string | undefined {
  const node = map.get(key, true);
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return String(node.value);
}

/** One replacement of source text: [start, end) becomes `text`. */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The source with the edits applied (they must not overlap). */
export function applyEdits(content: string, edits: readonly TextEdit[]): string {
  let out = content;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** Whether `text`, written plain, reads back as the same string (not a number, boolean, null or a broken line). */
function safePlain(text: string): boolean {
  if (text === '' || /^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(text) || /\s$|: | #|[\n\r\t]/.test(text)) return false;
  try {
    return (parse(`k: ${text}`) as { k?: unknown } | null)?.k === text;
  } catch {
    return false;
  }
}

/** `value` written as a scalar in the style `style` had, falling back to double quotes where plain would misread. */
export function renderScalar(value: string, style: Scalar['type']): string {
  if (style === Scalar.QUOTE_SINGLE && !/[\n\r]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if ((style === Scalar.PLAIN || style === undefined) && safePlain(value)) return value;
  return JSON.stringify(value);
}

/** The edit that sets a scalar node to `value` in place, keeping its quote style and any comment after it. */
export function setScalar(node: Scalar, value: string, path: string): TextEdit | undefined {
  if (node.value !== null && String(node.value) === value) return undefined;
  const range = node.range;
  if (!range)
    throw new ValidationError(
      'imageDeclarations',
      'must have a source position',
      `${path}: the value has no source position`,
    );
  if (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL)
    throw new ValidationError(
      'imageDeclarations',
      'must declare the image on one line',
      `${path} declares the image as a block scalar (| or >); write it on one line, e.g. image: repo:tag`,
    );
  return { start: range[0], end: range[1], text: renderScalar(value, node.type) };
}

/** The start of the line holding `offset`. */
function lineStart(content: string, offset: number): number {
  return content.lastIndexOf('\n', offset - 1) + 1;
}

/** The end of the line holding `offset`, after its newline. */
function lineEnd(content: string, offset: number): number {
  const nl = content.indexOf('\n', offset);
  return nl < 0 ? content.length : nl + 1;
}

/**
 * The edit that removes the pair `key` of a block map (its whole line), or undefined when the map has no such key.
 * Throws when the pair does not stand on a line of its own (a flow map, or the first key of a sequence item).
 */
export function removePair(content: string, map: YAMLMap, key: string, path: string): TextEdit | undefined {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair) return undefined;
  const keyNode = pair.key as Scalar;
  const valueNode = pair.value as Node | null;
  const start = keyNode.range?.[0];
  const end = valueNode?.range?.[2] ?? keyNode.range?.[2];
  if (
    start === undefined ||
    end === undefined ||
    map.flow ||
    content.slice(lineStart(content, start), start).trim() !== ''
  )
    throw new ValidationError(
      'imageDeclarations',
      'must be editable without reformatting',
      `${path}: cannot remove "${key}" without reformatting the file; put it on a line of its own`,
    );
  return { start: lineStart(content, start), end: lineEnd(content, Math.max(start, end - 1)), text: '' };
}

/** The edit that replaces the pair `from` (key and value) by `to: value`, on the same line, keeping any comment. */
export function replacePair(map: YAMLMap, from: string, to: string, value: string): TextEdit | undefined {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === from);
  const keyNode = pair?.key as Scalar | undefined;
  const valueNode = pair?.value as Scalar | null | undefined;
  const start = keyNode?.range?.[0];
  const end = valueNode?.range?.[1];
  if (start === undefined || end === undefined || !isScalar(valueNode)) return undefined;
  return { start, end, text: `${to}: ${renderScalar(value, valueNode.type)}` };
}

/**
 * The edit that adds `key: value` as the last pair of a block map, indented like its other keys; throws when the
 * map is written in flow style (`{…}`) or is empty.
 */
export function appendPair(content: string, map: YAMLMap, key: string, value: string, path: string): TextEdit {
  const last = map.items[map.items.length - 1];
  const firstKey = map.items[0]?.key as Node | undefined;
  const keyStart = firstKey?.range?.[0];
  const lastEnd = (last?.value as Node | null | undefined)?.range?.[2] ?? (last?.key as Node | undefined)?.range?.[2];
  if (map.flow || keyStart === undefined || lastEnd === undefined)
    throw new ValidationError(
      'imageDeclarations',
      'must be editable without reformatting',
      `${path}: cannot add "${key}" to a flow or empty mapping without reformatting the file; add "${key}:" by hand`,
    );
  const indent = ' '.repeat(keyStart - lineStart(content, keyStart));
  const at = lineEnd(content, Math.max(keyStart, lastEnd - 1));
  const newline = at > 0 && content[at - 1] === '\n' ? '' : '\n';
  return { start: at, end: at, text: `${newline}${indent}${key}: ${renderScalar(value, Scalar.PLAIN)}\n` };
}
