// What a manifest file must be before YAML reads it, and what the parsed document may hold
// before it becomes data: UTF-8 text (not binary, nothing replaced silently), nesting and
// alias expansion within bounds, and maps without prototypes, so a name such as "constructor"
// or "__proto__" is a name like any other.
import { isUtf8 } from "node:buffer";
import {
  Lexer,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
} from "yaml";

/** A problem found before the document has key paths: where it is and what it says. */
export interface TextProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/**
 * Nesting levels of maps and lists a manifest may have. The format needs 6 (apps → app →
 * services → service → env → value); the bound stops a file nested thousands deep before it
 * exhausts the stack of the code that walks it.
 */
export const MAX_DEPTH = 32;

/**
 * Values YAML aliases may copy in all (each `*name` or `<<: *name` copies its anchor's values).
 * A thousand tenants that each merge a ten-key base copy about 20,000; a "billion laughs" file
 * copies 10^9 from a few lines.
 */
export const MAX_ALIAS_VALUES = 1_000_000;

/**
 * YAML aliases a manifest may hold. The YAML library reads each one by searching every anchor
 * and alias before it, so n aliases cost n²/2 steps: 10,000 take about a second; 20,000, four.
 */
export const MAX_ALIASES = 10_000;

/** The text of manifest bytes, or the first reason they are not a manifest's text. */
export function decodeManifest(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; problem: TextProblem } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nul = buffer.indexOf(0);
  if (nul !== -1) {
    return {
      ok: false,
      problem: {
        ...bytePosition(buffer, nul),
        message:
          "this is a binary file, not a manifest (a NUL byte here): tenants.yaml is YAML text; check the file name",
      },
    };
  }
  if (!isUtf8(buffer)) {
    const at = firstInvalidUtf8(buffer);
    const byte = buffer[at]!.toString(16).padStart(2, "0");
    return {
      ok: false,
      problem: {
        ...bytePosition(buffer, at),
        message: `not UTF-8 text: byte 0x${byte} cannot start or continue a character here; save the file as UTF-8 (a Latin-1 "é" is the one byte 0xe9; in UTF-8 it is c3 a9)`,
      },
    };
  }
  const text = new TextDecoder("utf-8").decode(buffer); // drops a leading BOM
  // YAML allows no C0 control character other than tab, line feed and carriage return.
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  const control = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/.exec(text);
  if (control !== null) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    return {
      ok: false,
      problem: {
        ...textPosition(text, control.index),
        message: `control character U+${code} is not allowed in YAML text; remove it (a copy from a terminal or a binary file?)`,
      },
    };
  }
  return { ok: true, text };
}

/** The offset of the first byte that is not part of a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    // [length, allowed range of the second byte] per lead byte (RFC 3629, table 3-7 of Unicode).
    const [n, lo, hi] =
      c < 0x80
        ? [1, 0, 0]
        : c >= 0xc2 && c <= 0xdf
          ? [2, 0x80, 0xbf]
          : c === 0xe0
            ? [3, 0xa0, 0xbf]
            : c === 0xed
              ? [3, 0x80, 0x9f]
              : c >= 0xe1 && c <= 0xef
                ? [3, 0x80, 0xbf]
                : c === 0xf0
                  ? [4, 0x90, 0xbf]
                  : c >= 0xf1 && c <= 0xf3
                    ? [4, 0x80, 0xbf]
                    : c === 0xf4
                      ? [4, 0x80, 0x8f]
                      : [0, 0, 0];
    if (n === 0) return i;
    if (n > 1) {
      const second = b[i + 1];
      if (second === undefined || second < lo || second > hi) return i;
      for (let k = 2; k < n; k++) {
        const next = b[i + k];
        if (next === undefined || next < 0x80 || next > 0xbf) return i;
      }
    }
    i += n;
  }
  return b.length;
}

/** Line and column (in characters, as editors count them) of a byte offset. */
function bytePosition(b: Buffer, offset: number): { line: number; col: number } {
  const lineStart = b.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let i = b.indexOf(0x0a); i !== -1 && i < offset; i = b.indexOf(0x0a, i + 1)) line++;
  const before = new TextDecoder("utf-8").decode(b.subarray(lineStart, offset));
  return { line, col: before.length + 1 };
}

function textPosition(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, col: offset - before.lastIndexOf("\n") };
}

/**
 * The first "[" or "{" nested more than MAX_DEPTH deep, found from the tokens alone: the YAML
 * parser reads nesting by recursion and, thousands deep, overflows its stack at a place that
 * depends on the stack's size. Block nesting that deep needs thousands of columns of indent;
 * shapeProblems bounds it after parsing.
 */
export function flowDepthProblem(text: string): TextProblem | undefined {
  let offset = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    // The lexer's control tokens (document start, scalar, flow error) are not source text.
    if (token === "\x02" || token === "\x1f" || token === "\x18") continue;
    if (token === "[" || token === "{") {
      // Block collections around it add levels too; the bound is generous enough for that.
      if (++depth > MAX_DEPTH) {
        return { ...textPosition(text, offset), message: tooDeep };
      }
    } else if (token === "]" || token === "}") {
      depth = Math.max(0, depth - 1);
    }
    offset += token.length;
  }
  return undefined;
}

const tooDeep = `maps and lists are nested more than ${MAX_DEPTH} levels deep here (a manifest needs 6); this is not a manifest`;

/** The maps, lists and scalars directly inside a node (a pair's key and value both count). */
function children(node: Node): Node[] {
  if (!isCollection(node)) return [];
  const out: Node[] = [];
  for (const item of node.items as unknown[]) {
    if (isPair(item)) {
      if (item.key !== null && typeof item.key === "object") out.push(item.key as Node);
      if (item.value !== null && typeof item.value === "object") out.push(item.value as Node);
    } else if (item !== null && typeof item === "object") {
      out.push(item as Node);
    }
  }
  return out;
}

/**
 * Nesting and alias problems of a parsed document: the first place nesting (aliases expanded)
 * goes deeper than MAX_DEPTH, an alias inside the node it names (infinitely deep), and the
 * alias where all aliases together pass MAX_ALIAS_VALUES. Walks without recursion, and counts
 * an alias by what its anchor holds without expanding it, so a hostile file costs its own size.
 */
export function shapeProblems(doc: Document, lines: LineCounter): TextProblem[] {
  const root = doc.contents;
  if (root === null) return [];
  const at = (node: Node) => lines.linePos(node.range?.[0] ?? 0);
  // Per node: values it holds (itself included) and levels of maps and lists, aliases expanded.
  const size = new Map<Node, number>();
  const height = new Map<Node, number>();
  const open = new Set<Node>();
  // Anchor name → the node it marks, as seen so far in document order: an alias names the
  // last anchor before it (the library's own resolve searches the document every time).
  const anchors = new Map<string, Node>();
  let copied = 0;
  let aliases = 0;
  const stack: Array<{ node: Node; entered: boolean }> = [{ node: root, entered: false }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const { node } = frame;
    if (isAlias(node)) {
      stack.pop();
      const target = anchors.get(node.source);
      if (target === undefined) continue; // an unknown anchor is a syntax error already
      if (++aliases > MAX_ALIASES) {
        return [
          {
            ...at(node),
            message: `more than ${MAX_ALIASES.toLocaleString("en-US")} YAML aliases by here; that is not a manifest (a thousand tenants that merge a base use a thousand)`,
          },
        ];
      }
      if (open.has(target)) {
        return [
          {
            ...at(node),
            message: `*${node.source} is inside the node &${node.source} marks, so it would be infinitely deep; anchor a node that does not contain the alias`,
          },
        ];
      }
      const targetSize = size.get(target) ?? 1;
      copied += targetSize;
      if (copied > MAX_ALIAS_VALUES) {
        return [
          {
            ...at(node),
            message: `YAML aliases copy more than ${MAX_ALIAS_VALUES.toLocaleString("en-US")} values by here (*${node.source} holds ${targetSize.toLocaleString("en-US")}); that is a resource-exhaustion pattern, not a manifest: use fewer or smaller anchors`,
          },
        ];
      }
      size.set(node, targetSize);
      height.set(node, height.get(target) ?? 0);
      continue;
    }
    const inner = children(node);
    if (!frame.entered) {
      frame.entered = true;
      open.add(node);
      if (node.anchor !== undefined) anchors.set(node.anchor, node);
      for (let i = inner.length - 1; i >= 0; i--) stack.push({ node: inner[i]!, entered: false });
      continue;
    }
    stack.pop();
    open.delete(node);
    size.set(
      node,
      inner.reduce((sum, c) => sum + (size.get(c) ?? 1), 1),
    );
    height.set(
      node,
      (isMap(node) || isSeq(node) ? 1 : 0) + Math.max(0, ...inner.map((c) => height.get(c) ?? 0)),
    );
  }
  if ((height.get(root) ?? 0) <= MAX_DEPTH) return [];
  // Down the deepest branch to the first node past the bound (or the alias that goes there).
  let node: Node = root;
  for (let depth = 1; ; depth++) {
    if (depth > MAX_DEPTH || isAlias(node)) {
      return [
        {
          ...at(node),
          message: tooDeep,
        },
      ];
    }
    const deepest: Node | undefined = children(node).sort(
      (a, b) => (height.get(b) ?? 0) - (height.get(a) ?? 0),
    )[0];
    if (deepest === undefined) return [];
    node = deepest;
  }
}

/**
 * The document as data whose maps have no prototype: `constructor`, `toString` or `__proto__`
 * read as what the file says, or as absent. Also returns where `__proto__` is a key: JavaScript
 * objects cannot hold it safely and zod drops it without a word, so it is reported instead.
 * Converts YAML's Map output (mapAsMap) once per Map, so aliased data stays shared.
 */
export function plainData(data: unknown): {
  data: unknown;
  protoKeys: Array<Array<string | number>>;
} {
  const protoKeys: Array<Array<string | number>> = [];
  const done = new Map<object, unknown>();
  const convert = (value: unknown, path: Array<string | number>): unknown => {
    if (typeof value !== "object" || value === null) return value;
    const seen = done.get(value);
    if (seen !== undefined) return seen;
    if (value instanceof Map) {
      const out = Object.create(null) as Record<string, unknown>;
      done.set(value, out);
      for (const [k, v] of value as Map<unknown, unknown>) {
        const key = typeof k === "object" && k !== null ? JSON.stringify(k) : String(k);
        if (key === "__proto__") {
          protoKeys.push([...path, key]);
          continue;
        }
        out[key] = convert(v, [...path, key]);
      }
      return out;
    }
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      done.set(value, out);
      value.forEach((v, i) => out.push(convert(v, [...path, i])));
      return out;
    }
    return value;
  };
  return { data: convert(data, []), protoKeys };
}

/** A copy of parsed manifest data whose plain objects have no prototype (see plainData). */
export function withoutPrototypes<T>(value: T): T {
  const done = new Map<object, unknown>();
  const convert = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      done.set(v, out);
      for (const item of v) out.push(convert(item));
      return out;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    const out = Object.create(null) as Record<string, unknown>;
    done.set(v, out);
    for (const [k, item] of Object.entries(v)) out[k] = convert(item);
    return out;
  };
  return convert(value) as T;
}
