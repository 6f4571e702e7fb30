// Reads tenants.yaml once: YAML with source positions, the zod schema, then the cross-entry
// rules. Every problem is collected and located as FILE:LINE:COL before any resource exists.
import { existsSync, readFileSync } from "node:fs";
import * as nodePath from "node:path";
import {
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type ErrorCode,
  type Node,
} from "yaml";
import type { z } from "zod";
import {
  closest,
  didYouMean,
  ManifestError,
  sortProblems,
  type LocatedProblem,
  type PathSegment,
  type Problem,
} from "./problems";
import {
  decodeManifest,
  flowDepthProblem,
  plainData,
  shapeProblems,
  withoutPrototypes,
} from "./input";
import { checkRules, type KnownNames } from "./rules";
import { manifestSchema, type Manifest, type Tenant } from "./schema";

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** A valid manifest and a way back from a key path to its place in the file. */
export interface LoadedManifest {
  readonly manifest: Manifest;
  readonly file: string;
  readonly text: string;
  locate(path: readonly PathSegment[], at?: "key" | "value"): Position;
}

export type ParseResult =
  | { readonly ok: true; readonly loaded: LoadedManifest }
  | { readonly ok: false; readonly problems: readonly LocatedProblem[] };

/** Reads and validates a manifest file; throws ManifestError listing every problem. */
export function loadManifest(file: string): LoadedManifest {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ManifestError([{ file, line: 1, col: 1, path: [], message: unreadable(file, err) }]);
  }
  const result = parseManifestBytes(bytes, file);
  if (!result.ok) throw new ManifestError(result.problems);
  return result.loaded;
}

/** Why a manifest file cannot be read, and what to do about it. */
export function unreadable(file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "file not found (create it from the example tenants.yaml)";
  if (code === "EISDIR") {
    const inside = nodePath.join(file, "tenants.yaml");
    return `is a directory, not a manifest file; name the file${existsSync(inside) ? `: ${inside}` : " (e.g. DIR/tenants.yaml)"}`;
  }
  if (code === "EACCES") return "permission denied: the file is not readable by this user";
  return err instanceof Error ? err.message : String(err);
}

/**
 * Validates manifest bytes as read from a file: UTF-8 text first (nothing replaced silently,
 * no binary file read as YAML), then parseManifest.
 */
export function parseManifestBytes(bytes: Uint8Array, file: string): ParseResult {
  const decoded = decodeManifest(bytes);
  if (!decoded.ok) return { ok: false, problems: [{ file, path: [], ...decoded.problem }] };
  return parseManifest(decoded.text, file);
}

/** Validates manifest text; `file` only labels the positions. */
export function parseManifest(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  const tooDeep = flowDepthProblem(text);
  if (tooDeep !== undefined) return { ok: false, problems: [{ file, path: [], ...tooDeep }] };
  // merge: `<<: *base` as Docker Compose files use it.
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const locator = new Locator(doc, lineCounter);

  const syntax = syntaxProblems(doc, text, lineCounter, file);
  const duplicates = doc.errors
    .filter((e) => e.code === "DUPLICATE_KEY")
    .map((e): LocatedProblem => {
      const path = locator.pathAt(e.pos[0]);
      const first = locator.position(path, "key").line;
      return {
        file,
        ...lineCounter.linePos(e.pos[0]),
        path,
        message: `duplicate key "${String(path[path.length - 1])}", first defined on line ${first}: each name may appear once (rename or merge one of them)`,
      };
    });
  const problems: LocatedProblem[] = [...syntax, ...duplicates];
  if (syntax.length > 0) return { ok: false, problems: sortProblems(problems) };
  // Validate the first of duplicated entries; the duplicates are already reported.
  for (const p of duplicates) locator.removeKeyAt(p.path);

  // Nesting and alias expansion are bounded here, with a position, instead of the YAML
  // library's own alias limit (100 uses, no position) or a stack overflow further on.
  const shape = shapeProblems(doc, lineCounter);
  if (shape.length > 0) {
    return {
      ok: false,
      problems: sortProblems([...problems, ...shape.map((p) => ({ file, path: [], ...p }))]),
    };
  }
  const { data, protoKeys } = plainData(doc.toJS({ maxAliasCount: -1, mapAsMap: true }));
  if (data === null || data === undefined) {
    const message =
      "the manifest is empty: it needs hosts, apps, plans and tenants (start from the annotated example tenants.yaml)";
    return { ok: false, problems: [{ file, line: 1, col: 1, path: [], message }] };
  }
  const schemaResult = manifestSchema.safeParse(data, { reportInput: true });
  // No prototypes in the manifest: a name indexes only what the file holds.
  const parsed = schemaResult.success
    ? { success: true as const, data: withoutPrototypes(schemaResult.data) }
    : schemaResult;
  const found: Problem[] = [
    ...protoKeys.map(reservedKeyProblem),
    ...(parsed.success ? [] : fromIssues(parsed.error.issues)),
  ];
  const partial = parsed.success ? parsed.data : withoutPrototypes(validEntries(data));
  found.push(
    ...checkRules(partial, knownNames(data, parsed.success ? parsed.data : undefined)),
    ...lossyEnvValues(doc, partial),
  );

  for (const p of found) problems.push({ ...p, file, ...locator.position(p.path, p.at) });
  if (problems.length > 0 || !parsed.success || protoKeys.length > 0) {
    return { ok: false, problems: dedupe(sortProblems(problems)) };
  }
  return {
    ok: true,
    loaded: {
      manifest: parsed.data,
      file,
      text,
      locate: (path, at) => locator.position(path, at),
    },
  };
}

/**
 * `__proto__` as a key, which JavaScript objects cannot hold as data: reported as the key that
 * is wrong where it stands (not a DNS label, not a known key).
 */
function reservedKeyProblem(path: readonly PathSegment[]): Problem {
  const parent = path.slice(0, -1);
  const def = schemaAt(parent).at(-1)?._zod.def as unknown as SchemaDef | undefined;
  if (def?.type === "record" && def.keyType !== undefined) {
    const check = def.keyType["~standard"].validate("__proto__") as {
      issues?: ReadonlyArray<{ message: string }>;
    };
    const inner = check.issues?.[0]?.message ?? "is not a valid name here";
    return { path, at: "key", message: `"__proto__": ${inner}` };
  }
  if (def?.type === "object") {
    return {
      path,
      at: "key",
      message: `unknown key "__proto__"; valid keys here: ${keysAt(parent).join(", ")}`,
    };
  }
  return { path, at: "key", message: 'key "__proto__" is not allowed (JavaScript reserves it)' };
}

/** What to do about the YAML errors people make most, by the parser's error code. */
const SYNTAX_HINTS: Partial<Record<ErrorCode, string>> = {
  TAB_AS_INDENT: "indent with spaces",
  BAD_INDENT: "indent it like the keys beside it",
  MULTILINE_IMPLICIT_KEY: 'a key needs ":" after it, on the same line',
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": "',
  MISSING_CHAR: "close the quote on the same line, or quote the value with the other kind of quote",
  BAD_SCALAR_START: "quote a value that starts with one of @ ` | > % !",
  MULTIPLE_DOCS: 'one manifest per file: remove the "---" line',
};

/** Our words where the parser's would send the user to the parser's API. */
const SYNTAX_MESSAGES: Partial<Record<ErrorCode, string>> = {
  MULTIPLE_DOCS: "a second YAML document starts here",
  // The parser's stack overflowed: nesting thousands deep.
  RESOURCE_EXHAUSTION:
    "maps and lists are nested too deeply here for the parser (a manifest needs 6 levels); this is not a manifest",
};

/**
 * A key indented deeper than the key above it reads, to the parser, as a mapping nested in that
 * key's value (BLOCK_AS_IMPLICIT_KEY at the value). Returns where the deeper line starts.
 */
function overIndentedLine(text: string, lines: LineCounter, offset: number): Position | undefined {
  const { line } = lines.linePos(offset);
  const all = text.split("\n");
  const indent = (l: string) => l.length - l.trimStart().length;
  const current = all[line - 1];
  const next = all.slice(line).findIndex((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  const nextLine = next === -1 ? undefined : all[line + next];
  if (current === undefined || nextLine === undefined) return undefined;
  if (indent(nextLine) <= indent(current) || !/^\s*[^\s:#]+:(\s|$)/.test(nextLine))
    return undefined;
  return { line: line + next + 1, col: indent(nextLine) + 1 };
}

/**
 * YAML syntax errors, one per mistake: an unclosed quote or bracket is reported where it
 * opens (the parser notices only at the end), and the errors that follow from one mistake on
 * the lines it spans are dropped.
 */
function syntaxProblems(
  doc: Document,
  text: string,
  lines: LineCounter,
  file: string,
): LocatedProblem[] {
  const opened: Array<{ start: number; end: number }> = [];
  visit(doc, {
    Node(_key, node) {
      const unclosable =
        (isCollection(node) && node.flow === true) ||
        (isScalar(node) && (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE"));
      if (unclosable && node.range) opened.push({ start: node.range[0], end: node.range[1] });
    },
  });
  const problems: LocatedProblem[] = [];
  let lastLine = 0;
  const errors = doc.errors.filter((e) => e.code !== "DUPLICATE_KEY");
  for (const error of errors.sort((a, b) => a.pos[0] - b.pos[0])) {
    let start = error.pos[0];
    const end = error.pos[1];
    const unclosed = error.code === "MISSING_CHAR" || /must .*end with a [\]}]/.test(error.message);
    if (unclosed) {
      // The innermost quote or flow collection that runs up to the error.
      const opener = opened.filter((o) => o.end === start).sort((a, b) => b.start - a.start)[0];
      if (opener) start = opener.start;
    }
    const overIndented =
      error.code === "BLOCK_AS_IMPLICIT_KEY" ? overIndentedLine(text, lines, start) : undefined;
    const { line, col } = overIndented ?? lines.linePos(start);
    const followOn = lines.linePos(start).line <= lastLine;
    lastLine = Math.max(lastLine, line, lines.linePos(end).line);
    if (followOn) continue;
    const hint = error.code === "BAD_INDENT" && unclosed ? undefined : SYNTAX_HINTS[error.code];
    const what = overIndented
      ? "this line is indented more than the key above it"
      : (SYNTAX_MESSAGES[error.code] ?? error.message.split("\n")[0]);
    problems.push({
      file,
      line,
      col,
      path: [],
      message: `YAML syntax error: ${what}${overIndented ? ` (${SYNTAX_HINTS.BAD_INDENT})` : hint ? ` (${hint})` : ""}`,
    });
  }
  return problems;
}

/**
 * Env values YAML reads as numbers or booleans whose text would change: `VERSION: 1.10` is the
 * number 1.1 and the container would get "1.1".
 */
function lossyEnvValues(doc: Document, m: Manifest): Problem[] {
  const envPaths = [
    ...Object.entries(m.apps).flatMap(([app, a]) =>
      Object.keys(a.services).map((svc) => ["apps", app, "services", svc, "env"]),
    ),
    ...Object.keys(m.tenants).map((t) => ["tenants", t, "env"]),
  ];
  const problems: Problem[] = [];
  for (const envPath of envPaths) {
    const env = doc.getIn(envPath, true);
    if (!isMap(env)) continue;
    for (const pair of env.items) {
      const value = pair.value;
      if (!isScalar(pair.key) || !isScalar(value)) continue;
      // Strings keep their text; null (no value) is reported by the schema.
      const read = value.value;
      if (typeof read !== "number" && typeof read !== "boolean") continue;
      if (value.source === undefined || String(read) === value.source) continue;
      problems.push({
        path: [...envPath, String(pair.key.value)],
        message: `YAML reads ${value.source} as ${String(read)}, so the container would get "${String(read)}"; quote it to keep the text: "${value.source}"`,
      });
    }
  }
  return problems;
}

type Issue = z.core.$ZodIssue;

/**
 * Problems for all issues. A required key that is missing because it is misspelt is reported
 * once, as the unknown key with its "did you mean".
 */
function fromIssues(issues: readonly Issue[]): Problem[] {
  const misspelt = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    for (const key of issue.keys) {
      const meant = closest(key, keysAt(issue.path as PathSegment[]));
      if (meant !== undefined) misspelt.add(JSON.stringify([...issue.path, meant]));
    }
  }
  return issues
    .filter(
      (i) =>
        !(
          i.code === "invalid_type" &&
          i.input === undefined &&
          misspelt.has(JSON.stringify(i.path))
        ),
    )
    .flatMap((i) => fromIssue(i));
}

/** Turns one zod issue into problems a person can act on. */
function fromIssue(issue: Issue): Problem[] {
  const path = issue.path.map((s) => (typeof s === "symbol" ? String(s) : s));
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = keysAt(path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        at: "key" as const,
        message: `unknown key "${key}"${didYouMean(key, allowed)}; valid keys here: ${allowed.join(", ")}`,
      }));
    }
    case "invalid_key": {
      const inner = issue.issues[0]?.message ?? "invalid name";
      return [{ path, at: "key", message: `"${String(path[path.length - 1])}": ${inner}` }];
    }
    case "invalid_type": {
      if (issue.input === undefined) {
        const what = describeAt(path);
        const key = String(path[path.length - 1] ?? "");
        // The schema's own wording of what is valid, where it has one (not zod's default).
        const valid = issue.message.startsWith("Invalid input") ? "" : ` (${issue.message})`;
        return [
          { path, message: `required key "${key}" is missing${what ? `: ${what}` : ""}${valid}` },
        ];
      }
      return [{ path, message: withInput(rewordType(issue.message, issue.expected), issue.input) }];
    }
    case "invalid_union": {
      return [{ path, message: withInput(issue.message, issue.input) }];
    }
    default:
      return [{ path, message: withInput(issue.message, issue.input) }];
  }
}

function rewordType(message: string, expected: string): string {
  if (!message.startsWith("Invalid input")) return message;
  const noun: Record<string, string> = {
    object: "a map of keys to values",
    record: "a map of names to entries",
    array: "a list",
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
  };
  return `must be ${noun[expected] ?? expected}`;
}

function withInput(message: string, input: unknown): string {
  if (input === undefined) return message;
  if (input === null) return `${message} (got no value: YAML reads an empty value and ~ as null)`;
  const shown =
    typeof input === "string"
      ? JSON.stringify(input)
      : typeof input === "number" || typeof input === "boolean"
        ? String(input)
        : Array.isArray(input)
          ? "a list"
          : "a map";
  const clipped = shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  return `${message} (got ${clipped})`;
}

type SchemaDef = {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  keyType?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
};

/** The wrappers around a schema (default, optional, transform) down to the schema itself. */
function layers(node: z.core.$ZodType): z.core.$ZodType[] {
  const out = [node];
  for (;;) {
    const def = out[out.length - 1]!._zod.def as unknown as SchemaDef;
    const inner = def.type === "pipe" ? def.in : def.innerType;
    if (
      inner === undefined ||
      !["default", "prefault", "optional", "nullable", "pipe"].includes(def.type)
    ) {
      return out;
    }
    out.push(inner);
  }
}

/** Walks the zod schema along a data path (records and lists step into their values). */
function schemaAt(path: readonly PathSegment[]): z.core.$ZodType[] {
  let node: z.core.$ZodType | undefined = manifestSchema;
  for (const seg of path) {
    const def = layers(node).at(-1)!._zod.def as unknown as SchemaDef;
    if (def.type === "object") node = def.shape?.[String(seg)];
    else if (def.type === "record") node = def.valueType;
    else if (def.type === "array") node = def.element;
    else node = undefined;
    if (node === undefined) return [];
  }
  return layers(node);
}

function keysAt(path: readonly PathSegment[]): string[] {
  const def = schemaAt(path).at(-1)?._zod.def as unknown as SchemaDef | undefined;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

function describeAt(path: readonly PathSegment[]): string | undefined {
  for (const layer of schemaAt(path)) {
    const description = (layer as { description?: string }).description;
    if (description) return description;
  }
  return undefined;
}

/**
 * Names present in the file, valid or not, so a reference to an invalid entry is not "unknown".
 * A section that is missing or not a map is already reported; its references are not checked.
 * Tenants: those of the valid manifest, or, when it is invalid, each tenant field by field.
 */
function knownNames(data: unknown, valid: Manifest | undefined): KnownNames {
  const keys = (section: string) => {
    const value = isObject(data) ? data[section] : undefined;
    return isObject(value) ? new Set(Object.keys(value)) : undefined;
  };
  const tenantShape = (
    manifestSchema.shape.tenants._zod.def as unknown as { valueType: z.ZodObject }
  ).valueType.shape as Record<string, z.ZodType>;
  const names = { hosts: keys("hosts"), apps: keys("apps"), plans: keys("plans") };
  if (valid !== undefined) return { ...names, tenants: new Map(Object.entries(valid.tenants)) };
  const tenants = new Map<string, Partial<Tenant>>();
  const raw = isObject(data) ? data.tenants : undefined;
  for (const [name, entry] of Object.entries(isObject(raw) ? raw : {})) {
    if (!isObject(entry)) continue;
    const fields: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(tenantShape)) {
      const field = schema.safeParse(entry[key]);
      if (field.success && field.data !== undefined) fields[key] = field.data;
    }
    tenants.set(name, fields);
  }
  return { ...names, tenants };
}

/**
 * The entries that are valid on their own, so the cross-entry rules can still run and report
 * alongside structural problems (all problems at once, not one round per fix). An entry with an
 * unknown or invalid field still takes part without that field, unless the field is required.
 */
function validEntries(data: unknown): Manifest {
  const shape = manifestSchema.shape;
  const section = <T>(name: "hosts" | "apps" | "plans" | "tenants"): Record<string, T> => {
    const raw = isObject(data) ? data[name] : undefined;
    const out: Record<string, T> = {};
    if (!isObject(raw)) return out;
    const valueSchema = (shape[name]._zod.def as unknown as { valueType: z.ZodType }).valueType;
    for (const [key, value] of Object.entries(raw)) {
      const r = valueSchema.safeParse(value);
      if (r.success) {
        out[key] = r.data as T;
        continue;
      }
      if (!isObject(value)) continue;
      const bad = new Set(
        r.error.issues.flatMap((i) =>
          i.code === "unrecognized_keys" && i.path.length === 0 ? i.keys : [String(i.path[0])],
        ),
      );
      const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !bad.has(k)));
      const retry = valueSchema.safeParse(rest);
      if (retry.success) out[key] = retry.data as T;
    }
    return out;
  };
  const dns = shape.dns.safeParse(isObject(data) ? data.dns : undefined);
  const tls = shape.tls.safeParse(isObject(data) ? data.tls : undefined);
  return {
    hosts: section("hosts"),
    apps: section("apps"),
    plans: section("plans"),
    tenants: section("tenants"),
    dns: dns.success ? dns.data : { zones: {} },
    tls: tls.success ? tls.data : shape.tls.parse(undefined),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function dedupe(problems: LocatedProblem[]): LocatedProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.col}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Maps key paths to positions in the YAML source and back. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  position(path: readonly PathSegment[], at: "key" | "value" = "value"): Position {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    let depth = 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number" && node.items[seg] !== undefined) {
        keyNode = undefined;
        node = node.items[seg];
      } else {
        break;
      }
      depth++;
    }
    const keyOffset = isScalar(keyNode) ? keyNode.range?.[0] : undefined;
    const valueOffset =
      isScalar(node) && node.value === null ? undefined : (node as Node | null)?.range?.[0];
    // A missing key points at the entry that should hold it; an empty value at its key.
    const offset =
      depth < path.length || at === "key" ? (keyOffset ?? valueOffset) : (valueOffset ?? keyOffset);
    return this.lines.linePos(offset ?? this.doc.contents?.range?.[0] ?? 0);
  }

  /** Drops the last pair with this key path (the duplicate YAML reported). */
  removeKeyAt(path: readonly PathSegment[]): void {
    const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return;
    const key = String(path[path.length - 1]);
    const matches = parent.items.filter((p) => isScalar(p.key) && String(p.key.value) === key);
    const last = matches[matches.length - 1];
    if (matches.length > 1 && last) parent.items.splice(parent.items.indexOf(last), 1);
  }

  /** The key path of the map key that starts at `offset` (for YAML's duplicate-key errors). */
  pathAt(offset: number): PathSegment[] {
    const walk = (node: unknown, path: PathSegment[]): PathSegment[] | undefined => {
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : "?";
          const range = isScalar(pair.key) ? pair.key.range : undefined;
          if (range && range[0] === offset) return [...path, key];
          const inner = walk(pair.value, [...path, key]);
          if (inner) return inner;
        }
      } else if (isSeq(node)) {
        for (let i = 0; i < node.items.length; i++) {
          const inner = walk(node.items[i], [...path, i]);
          if (inner) return inner;
        }
      } else if (isPair(node)) {
        return walk(node.value, path);
      }
      return undefined;
    };
    return walk(this.doc.contents, []) ?? [];
  }
}
