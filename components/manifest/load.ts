// Reads tenants.yaml once: YAML with source positions, the zod schema, then the cross-entry
// rules. Every problem is collected and located as FILE:LINE:COL before any resource exists.
import { readFileSync } from "node:fs";
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
} from "yaml";
import type { z } from "zod";
import {
  didYouMean,
  ManifestError,
  sortProblems,
  type LocatedProblem,
  type PathSegment,
  type Problem,
} from "./problems";
import { checkRules } from "./rules";
import { manifestSchema, type Manifest } from "./schema";

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
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(err);
    throw new ManifestError([
      {
        file,
        line: 1,
        col: 1,
        path: [],
        message: `${reason} (create it from the example tenants.yaml)`,
      },
    ]);
  }
  const result = parseManifest(text, file);
  if (!result.ok) throw new ManifestError(result.problems);
  return result.loaded;
}

/** Validates manifest text; `file` only labels the positions. */
export function parseManifest(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new Locator(doc, lineCounter);

  const problems: LocatedProblem[] = [];
  for (const error of doc.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    if (error.code === "DUPLICATE_KEY") {
      const path = locator.pathAt(error.pos[0]);
      problems.push({
        file,
        line,
        col,
        path,
        message: `duplicate key "${String(path[path.length - 1])}": each name may appear once (rename or merge one of them)`,
      });
    } else {
      problems.push({
        file,
        line,
        col,
        path: [],
        message: `YAML syntax error: ${error.message.split("\n")[0]}`,
      });
    }
  }
  if (problems.some((p) => !p.message.startsWith("duplicate key"))) {
    return { ok: false, problems: sortProblems(problems) };
  }
  // Validate the first of duplicated entries; the duplicates are already reported.
  for (const p of problems) locator.removeKeyAt(p.path);

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = manifestSchema.safeParse(data ?? {}, { reportInput: true });
  const found: Problem[] = parsed.success ? [] : parsed.error.issues.flatMap((i) => fromIssue(i));
  const partial = parsed.success ? parsed.data : validEntries(data);
  found.push(...checkRules(partial, knownNames(data)));

  for (const p of found) problems.push({ ...p, file, ...locator.position(p.path, p.at) });
  if (problems.length > 0 || !parsed.success) {
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

type Issue = z.core.$ZodIssue;

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
        return [{ path, message: `required key "${key}" is missing${what ? `: ${what}` : ""}` }];
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
  if (input === undefined || input === null) return message;
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

/** Names present in the file, valid or not, so a reference to an invalid entry is not "unknown". */
function knownNames(data: unknown): { hosts: Set<string>; apps: Set<string>; plans: Set<string> } {
  const keys = (section: string) => {
    const value = isObject(data) ? data[section] : undefined;
    return new Set(isObject(value) ? Object.keys(value) : []);
  };
  return { hosts: keys("hosts"), apps: keys("apps"), plans: keys("plans") };
}

/**
 * The entries that are valid on their own, so the cross-entry rules can still run and report
 * alongside structural problems (all problems at once, not one round per fix).
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
      if (r.success) out[key] = r.data as T;
    }
    return out;
  };
  const dns = shape.dns.safeParse(isObject(data) ? data.dns : undefined);
  return {
    hosts: section("hosts"),
    apps: section("apps"),
    plans: section("plans"),
    tenants: section("tenants"),
    dns: dns.success ? dns.data : { zones: {} },
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
