// Edits a YAML document in place: the new data goes onto the parsed document
// (yaml's Document API), so the user's comments, the key order, the quoting
// and the header (`# yaml-language-server: $schema=...`) stay, and only the
// fields whose values changed are rewritten. When only scalar values changed,
// they are rewritten in the source tokens (yaml's CST) and every other byte
// stays as it was; a change of structure (a key or list item added or
// removed) re-renders the document, comments kept, spacing normalised. Keys no
// longer in the data are removed; new keys go at the end of their map.
import { Composer, CST, isMap, isScalar, isSeq, parse, Parser, type Document, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && same(a[k], b[k]));
  }
  return false;
}

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

/** Scalars to rewrite in the source, and whether anything else changed. */
interface Edits {
  readonly scalars: Array<{ token: CST.Token; source: string; type: Scalar.Type; afterKey: boolean; inFlow: boolean }>;
  structural: boolean;
}

interface Where {
  readonly afterKey: boolean;
  readonly inFlow: boolean;
}

/** How a scalar value is written in place of `node`'s: its own style where that reads back the same. */
function scalarSource(node: Scalar, value: unknown): { source: string; type: Scalar.Type } {
  if (typeof value !== 'string') return { source: value === null ? 'null' : String(value), type: 'PLAIN' };
  const type = node.type ?? 'PLAIN';
  if (type !== 'PLAIN') return { source: value, type };
  let plainOk = value !== '' && !/[\n\r]/.test(value) && value.trim() === value;
  if (plainOk) {
    try {
      plainOk = parse(value) === value;
    } catch {
      plainOk = false;
    }
  }
  return { source: value, type: plainOk ? 'PLAIN' : 'QUOTE_DOUBLE' };
}

/** The node for `value`, reusing `node` (and its comments) wherever its content allows. */
function merge(doc: Document, node: unknown, value: unknown, edits: Edits, where: Where): unknown {
  const current: unknown = isMap(node) || isSeq(node) || isScalar(node) ? (node as Node).toJS(doc) : undefined;
  if (node !== undefined && node !== null && same(current, value)) return node;
  if (isMap(node) && isObject(value)) {
    mergeMap(doc, node, value, edits);
    return node;
  }
  if (isSeq(node) && Array.isArray(value)) {
    mergeSeq(doc, node, value, edits);
    return node;
  }
  if (isScalar(node) && (value === null || typeof value !== 'object')) {
    if (node.srcToken !== undefined) edits.scalars.push({ token: node.srcToken, ...scalarSource(node, value), ...where });
    else edits.structural = true;
    node.value = value;
    return node;
  }
  edits.structural = true;
  const fresh = doc.createNode(value as Plain);
  if (node !== null && typeof node === 'object' && 'comment' in node) {
    const old = node as Node;
    fresh.comment = old.comment;
    fresh.commentBefore = old.commentBefore;
  }
  return fresh;
}

function mergeMap(doc: Document, map: YAMLMap, value: Record<string, unknown>, edits: Edits): void {
  const before = map.items.length;
  map.items = map.items.filter((p) => {
    const k = keyOf(p);
    return typeof k === 'string' && k in value && value[k] !== undefined;
  });
  if (map.items.length !== before) edits.structural = true;
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const pair = map.items.find((p) => keyOf(p) === k);
    if (pair !== undefined) pair.value = merge(doc, pair.value, v, edits, { afterKey: true, inFlow: map.flow === true });
    else {
      edits.structural = true;
      map.items.push(doc.createPair(k, v as Plain));
    }
  }
}

function mergeSeq(doc: Document, seq: YAMLSeq, value: readonly unknown[], edits: Edits): void {
  const old = [...seq.items];
  const used = new Set<number>();
  seq.items = value.map((v, i) => {
    // An item kept as it was keeps its comment, wherever it moved.
    const found = old.findIndex((n, j) => !used.has(j) && same(isScalar(n) || isMap(n) || isSeq(n) ? (n as Node).toJS(doc) : n, v));
    if (found >= 0) {
      if (found !== i) edits.structural = true;
      used.add(found);
      return old[found];
    }
    const at = old[i];
    if (at !== undefined && !used.has(i) && isScalar(at) && (v === null || typeof v !== 'object')) {
      used.add(i);
      return merge(doc, at, v, edits, { afterKey: false, inFlow: seq.flow === true });
    }
    edits.structural = true;
    return doc.createNode(v as Plain);
  });
  if (value.length !== old.length) edits.structural = true;
}

/** `text` (a YAML document holding a map) with `data` applied; undefined when the text is not such a document. */
export function applyToYaml(text: string, data: Record<string, unknown>): string | undefined {
  const tokens = [...new Parser().parse(text)];
  const docs = [...new Composer({ keepSourceTokens: true }).compose(tokens)];
  const doc = docs[0];
  if (docs.length !== 1 || doc === undefined || doc.errors.length > 0 || !isMap(doc.contents)) return undefined;
  const edits: Edits = { scalars: [], structural: false };
  mergeMap(doc, doc.contents, data, edits);
  if (!edits.structural) {
    for (const e of edits.scalars) CST.setScalarValue(e.token, e.source, { type: e.type, afterKey: e.afterKey, inFlow: e.inFlow });
    const out = tokens.map((t) => CST.stringify(t)).join('');
    // The rewrite in place must read back as the data; otherwise the document is rendered.
    try {
      if (same(parse(out), JSON.parse(JSON.stringify(data)))) return out;
    } catch {
      // rendered below
    }
  }
  return doc.toString({ lineWidth: 0 });
}
