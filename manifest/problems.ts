// Validation problems: where they are (a key path, resolved to FILE:LINE:COL) and how they print.

export type PathSegment = string | number;

/** A problem found in the manifest, before it has a source position. */
export interface Problem {
  readonly path: readonly PathSegment[];
  readonly message: string;
  /** Point at the key itself (unknown or invalid keys) rather than at its value. */
  readonly at?: "key" | "value";
}

/** A problem with its place in the file. */
export interface LocatedProblem extends Problem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** `tenants.acme.aliases[0]`; the root is shown as `(top level)`. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((seg, i) => (typeof seg === "number" ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join("");
}

export function formatProblem(p: LocatedProblem): string {
  return `${p.file}:${p.line}:${p.col} ${formatPath(p.path)}: ${p.message}`;
}

/** Thrown when a manifest is invalid: carries every problem, sorted by position. */
export class ManifestError extends Error {
  constructor(readonly problems: readonly LocatedProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? "" : "s"} in the manifest:\n` +
        problems.map((p) => `  ${formatProblem(p)}`).join("\n"),
    );
    this.name = "ManifestError";
  }
}

export function sortProblems<T extends LocatedProblem>(problems: readonly T[]): T[] {
  return [...problems].sort(
    (a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message),
  );
}

/** Edit distance counting a swap of neighbours as one edit ("prot" → "port"); short inputs only. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** ` (did you mean "port"?)` when a candidate is close enough, else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = closest(word, candidates);
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

/** The candidate a misspelling most likely meant, if one is close enough. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    const tie = d === bestDistance && best !== undefined && c[0] === word[0] && best[0] !== word[0];
    if (d < bestDistance || tie) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit ? best : undefined;
}

/** `"a", "b" or "c"` for messages that list what is valid. */
export function listChoices(choices: readonly string[]): string {
  const quoted = choices.map((c) => `"${c}"`);
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}
