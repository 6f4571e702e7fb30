// Pure: reads the document `pulumi preview --json` prints (the engine's PreviewDigest) and checks
// the parts tenantry relies on, so a summary is never built from a file it misreads.
//
// Shape, from pulumi/pulumi at v3.259.0 (unchanged in the newest source read):
// - pkg/display/json.go: PreviewDigest {config, steps, diagnostics, duration, changeSummary,
//   maybeCorrupt} and PreviewStep {op, urn, provider, oldState, newState, diffReasons,
//   replaceReasons, detailedDiff}; every field but `detailedDiff` is omitted when empty, and
//   `detailedDiff` is null when the provider gave none.
// - pkg/backend/display/json.go (ShowPreviewDigest, stateForJSONOutput): states are
//   apitype.ResourceV3 (sdk/go/common/apitype/core.go: urn, type, inputs, outputs, parent,
//   provider, retainOnDelete omitted unless true, ...); every secret value is replaced by the
//   string "[secret]" before the state is written.
// - pkg/resource/stack/deployment.go: a value not known until apply is the string
//   "04da6b54-80e4-46f7-96ec-b56ff0331ba9".
// - pkg/resource/deploy/step.go: the step ops; pkg/resource/plugin/provider.go: diff kinds.
import { LineCounter, parseDocument } from "yaml";
import { parseUrn } from "./urn";

export const STEP_OPS = [
  "same",
  "create",
  "update",
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "read",
  "read-replacement",
  "refresh",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
  "import",
  "import-replacement",
  "diff",
  "extend-parameterize",
] as const;
export type StepOp = (typeof STEP_OPS)[number];

export const DIFF_KINDS = [
  "add",
  "add-replace",
  "delete",
  "delete-replace",
  "update",
  "update-replace",
] as const;
export type DiffKind = (typeof DIFF_KINDS)[number];

/** What the engine writes for a secret value. */
export const SECRET = "[secret]";
/** What the engine writes for a value known only after apply. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A resource's state as a step carries it (the parts tenantry reads). */
export interface ResourceState {
  readonly urn: string;
  readonly type: string;
  readonly parent: string;
  readonly provider: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly retainOnDelete: boolean;
}

export interface PropertyDiff {
  readonly kind: DiffKind;
  readonly inputDiff: boolean;
}

export interface PreviewStep {
  readonly op: StepOp;
  readonly urn: string;
  readonly oldState?: ResourceState;
  readonly newState?: ResourceState;
  readonly diffReasons: readonly string[];
  readonly replaceReasons: readonly string[];
  /** Property path → kind of change; null when the provider reported no detailed diff. */
  readonly detailedDiff: Readonly<Record<string, PropertyDiff>> | null;
}

export interface PreviewDiagnostic {
  readonly urn: string;
  readonly message: string;
  readonly severity: string;
}

export interface PreviewDigest {
  readonly steps: readonly PreviewStep[];
  readonly diagnostics: readonly PreviewDiagnostic[];
  /** The engine's own count of steps per op ("same" included). */
  readonly changeSummary: Readonly<Record<string, number>>;
}

type Segment = string | number;

export interface PreviewProblem {
  readonly line: number;
  readonly col: number;
  readonly path: readonly Segment[];
  readonly message: string;
}

/** The file is not a preview document tenantry can read; every problem found, with positions. */
export class PreviewFormatError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly PreviewProblem[],
  ) {
    super(problems.map((p) => formatPreviewProblem(file, p)).join("\n"));
    this.name = "PreviewFormatError";
  }
}

export function formatPreviewProblem(file: string, p: PreviewProblem): string {
  return `${file}:${p.line}:${p.col} ${formatJsonPath(p.path)}: ${p.message}`;
}

/** `steps[3].oldState.inputs`; the root is `(top level)`. */
export function formatJsonPath(path: readonly Segment[]): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((seg, i) => (typeof seg === "number" ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join("");
}

const HOW_TO_MAKE =
  "expected the one JSON document `pulumi preview --json` prints, e.g. `pulumi preview --json --show-replacement-steps > preview.json`";

/** At most this many problems are listed; a file with more is not worth reading further. */
const MAX_PROBLEMS = 20;

/** Parses and checks a preview document; throws PreviewFormatError naming every problem. */
export function parsePreview(text: string, file: string): PreviewDigest {
  const trimmed = text.replace(/^\uFEFF/, "").trim();
  if (trimmed === "") {
    throw new PreviewFormatError(file, [
      { line: 1, col: 1, path: [], message: `empty file; ${HOW_TO_MAKE}` },
    ]);
  }
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch (err) {
    throw new PreviewFormatError(file, [notJson(text, trimmed, err)]);
  }
  const problems: Array<{ path: Segment[]; message: string }> = [];
  const digest = readDigest(data, (path, message) => {
    if (problems.length < MAX_PROBLEMS) problems.push({ path, message });
  });
  if (problems.length > 0) {
    const locate = locator(text);
    throw new PreviewFormatError(
      file,
      problems.map((p) => ({ ...locate(p.path), path: p.path, message: p.message })),
    );
  }
  return digest;
}

/** Why the text is not JSON, with the position JSON.parse reports. */
function notJson(text: string, trimmed: string, err: unknown): PreviewProblem {
  const firstLine = trimmed.split("\n", 1)[0] ?? "";
  let lineIsObject: boolean;
  try {
    lineIsObject = typeof JSON.parse(firstLine) === "object";
  } catch {
    lineIsObject = false;
  }
  if (lineIsObject && trimmed.includes("\n")) {
    return {
      line: 2,
      col: 1,
      path: [],
      message: `one JSON object per line: this is a stream of engine events (\`pulumi up --json\`, or PULUMI_ENABLE_STREAMING_JSON_PREVIEW set), not a preview document; ${HOW_TO_MAKE}`,
    };
  }
  if (/^(Previewing|Updating|View in Browser|Please choose)/.test(trimmed)) {
    return {
      line: 1,
      col: 1,
      path: [],
      message: `this is pulumi's text output, not JSON; ${HOW_TO_MAKE}`,
    };
  }
  const reason = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(reason);
  const offset =
    position === null ? 0 : Number(position[1]) + (text.length - text.trimStart().length);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return {
    line,
    col: offset - before.lastIndexOf("\n"),
    path: [],
    message: `not valid JSON (${reason.replace(/ in JSON at position \d+.*$/, "")}); ${HOW_TO_MAKE}`,
  };
}

/** Line and column of the value at a path, found by parsing the text again with positions. */
function locator(text: string): (path: readonly Segment[]) => { line: number; col: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, strict: false });
  return (path) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] };
      if (node?.range) return lineCounter.linePos(node.range[0]);
    }
    return { line: 1, col: 1 };
  };
}

type Report = (path: Segment[], message: string) => void;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function readDigest(data: unknown, report: Report): PreviewDigest {
  if (!isObject(data)) {
    report([], `is ${describeValue(data)}; ${HOW_TO_MAKE}`);
    return { steps: [], diagnostics: [], changeSummary: {} };
  }
  if (!("steps" in data) && !("changeSummary" in data) && Object.keys(data).length > 0) {
    report(
      [],
      `has neither "steps" nor "changeSummary" (keys: ${Object.keys(data).slice(0, 5).join(", ")}); ${HOW_TO_MAKE}`,
    );
  }
  const steps = list(data.steps, ["steps"], report).flatMap((s, i) => {
    const step = readStep(s, ["steps", i], report);
    return step === undefined ? [] : [step];
  });
  const diagnostics = list(data.diagnostics, ["diagnostics"], report).flatMap((d, i) => {
    const path = ["diagnostics", i];
    if (!isObject(d)) {
      report(path, `is ${describeValue(d)} (a diagnostic is an object with message and severity)`);
      return [];
    }
    return [
      {
        urn: optionalString(d.urn, [...path, "urn"], report),
        message: optionalString(d.message, [...path, "message"], report),
        severity: optionalString(d.severity, [...path, "severity"], report),
      },
    ];
  });
  const changeSummary: Record<string, number> = {};
  if (data.changeSummary !== undefined && data.changeSummary !== null) {
    if (!isObject(data.changeSummary)) {
      report(
        ["changeSummary"],
        `is ${describeValue(data.changeSummary)} (an object of op → count)`,
      );
    } else {
      for (const [op, n] of Object.entries(data.changeSummary)) {
        if (typeof n === "number" && Number.isInteger(n) && n >= 0) changeSummary[op] = n;
        else report(["changeSummary", op], `is ${describeValue(n)} (a count: a whole number ≥ 0)`);
      }
    }
  }
  return { steps, diagnostics, changeSummary };
}

function list(v: unknown, path: Segment[], report: Report): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  report(path, `is ${describeValue(v)} (a list)`);
  return [];
}

function optionalString(v: unknown, path: Segment[], report: Report): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  report(path, `is ${describeValue(v)} (a string)`);
  return "";
}

function stringList(v: unknown, path: Segment[], report: Report): string[] {
  return list(v, path, report).flatMap((item, i) => {
    if (typeof item === "string") return [item];
    report([...path, i], `is ${describeValue(item)} (a property name)`);
    return [];
  });
}

function readUrn(v: unknown, path: Segment[], report: Report): string | undefined {
  if (typeof v === "string" && parseUrn(v) !== undefined) return v;
  report(
    path,
    `is ${describeValue(v)} (a URN: urn:pulumi:<stack>::<project>::<qualified type>::<name>)`,
  );
  return undefined;
}

function readStep(s: unknown, path: Segment[], report: Report): PreviewStep | undefined {
  if (!isObject(s)) {
    report(path, `is ${describeValue(s)} (a step is an object with op and urn)`);
    return undefined;
  }
  const op = s.op;
  const urn = readUrn(s.urn, [...path, "urn"], report);
  if (typeof op !== "string" || !(STEP_OPS as readonly string[]).includes(op)) {
    report([...path, "op"], `is ${describeValue(op)} (one of ${STEP_OPS.join(", ")})`);
    return undefined;
  }
  const oldState = readState(s.oldState, [...path, "oldState"], report);
  const newState = readState(s.newState, [...path, "newState"], report);
  const detailedDiff = readDetailedDiff(s.detailedDiff, [...path, "detailedDiff"], report);
  const diffReasons = stringList(s.diffReasons, [...path, "diffReasons"], report);
  const replaceReasons = stringList(s.replaceReasons, [...path, "replaceReasons"], report);
  if (urn === undefined) return undefined;
  return {
    op: op as StepOp,
    urn,
    ...(oldState ? { oldState } : {}),
    ...(newState ? { newState } : {}),
    diffReasons,
    replaceReasons,
    detailedDiff,
  };
}

function readState(v: unknown, path: Segment[], report: Report): ResourceState | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) {
    report(path, `is ${describeValue(v)} (a resource state object)`);
    return undefined;
  }
  const urn = readUrn(v.urn, [...path, "urn"], report);
  const type = optionalString(v.type, [...path, "type"], report);
  const parent = optionalString(v.parent, [...path, "parent"], report);
  if (parent !== "" && parseUrn(parent) === undefined) {
    report([...path, "parent"], `is ${describeValue(parent)} (the parent's URN, or absent)`);
  }
  const provider = optionalString(v.provider, [...path, "provider"], report);
  let inputs: Record<string, unknown> = {};
  if (v.inputs !== undefined && v.inputs !== null) {
    if (isObject(v.inputs)) inputs = v.inputs;
    else
      report([...path, "inputs"], `is ${describeValue(v.inputs)} (an object of input properties)`);
  }
  let retainOnDelete = false;
  if (v.retainOnDelete !== undefined) {
    if (typeof v.retainOnDelete === "boolean") retainOnDelete = v.retainOnDelete;
    else
      report([...path, "retainOnDelete"], `is ${describeValue(v.retainOnDelete)} (true or false)`);
  }
  if (urn === undefined) return undefined;
  return {
    urn,
    type: type || (parseUrn(urn)?.type ?? ""),
    parent,
    provider,
    inputs,
    retainOnDelete,
  };
}

function readDetailedDiff(
  v: unknown,
  path: Segment[],
  report: Report,
): Record<string, PropertyDiff> | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) {
    report(
      path,
      `is ${describeValue(v)} (an object of property path → {kind, inputDiff}, or null)`,
    );
    return null;
  }
  const out: Record<string, PropertyDiff> = {};
  for (const [key, d] of Object.entries(v)) {
    const kind = isObject(d) ? d.kind : undefined;
    if (typeof kind !== "string" || !(DIFF_KINDS as readonly string[]).includes(kind)) {
      report([...path, key, "kind"], `is ${describeValue(kind)} (one of ${DIFF_KINDS.join(", ")})`);
      continue;
    }
    out[key] = { kind: kind as DiffKind, inputDiff: isObject(d) && d.inputDiff === true };
  }
  return out;
}
