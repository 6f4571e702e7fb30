// A corpus of invalid manifests: each fixture under test/fixtures/bad/ states in its header the
// exact problems a user should see (`# expect: LINE:COL path: message fragment`), nothing more.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../manifest/load";
import { formatPath, formatProblem, type LocatedProblem } from "../../manifest/problems";

const root = path.resolve(__dirname, "../..");
const badDir = path.join(root, "test/fixtures/bad");
const fixtures = readdirSync(badDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

interface Expectation {
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly fragment: string;
  readonly text: string;
}

/** The `# expect:` lines at the top of a fixture; the path runs up to the first ": ". */
function expectations(text: string): Expectation[] {
  const header: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("# expect:")) break;
    header.push(line);
  }
  return header.map((line) => {
    const m = /^# expect: (\d+):(\d+) (.+?): (.+)$/.exec(line);
    if (m === null) throw new Error(`malformed expectation: ${line}`);
    return {
      line: Number(m[1]),
      col: Number(m[2]),
      path: m[3]!,
      fragment: m[4]!,
      text: line.slice("# expect: ".length),
    };
  });
}

function matches(e: Expectation, p: LocatedProblem): boolean {
  return (
    p.line === e.line &&
    p.col === e.col &&
    formatPath(p.path) === e.path &&
    p.message.includes(e.fragment)
  );
}

describe("invalid manifests (test/fixtures/bad)", () => {
  it("has a corpus of at least 30 fixtures, each numbered and with expectations", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
    for (const file of fixtures) {
      expect(file).toMatch(/^\d{2}-[a-z0-9-]+\.yaml$/);
      expect(expectations(readFileSync(path.join(badDir, file), "utf8")).length).toBeGreaterThan(0);
    }
  });

  it.each(fixtures)("%s reports exactly the expected problems", (file) => {
    const text = readFileSync(path.join(badDir, file), "utf8");
    const expected = expectations(text);
    const result = parseManifest(text, file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const printed = result.problems.map((p) => formatProblem(p));

    const unmatched = [...result.problems];
    const missing: string[] = [];
    for (const e of expected) {
      const i = unmatched.findIndex((p) => matches(e, p));
      if (i === -1) missing.push(e.text);
      else unmatched.splice(i, 1);
    }
    // Compared as lists so a failure shows what was printed next to what was expected.
    expect({ missing, unexpected: unmatched.map((p) => formatProblem(p)), printed }).toEqual({
      missing: [],
      unexpected: [],
      printed,
    });
    expect(result.problems).toHaveLength(expected.length);
  });
});

describe("the example tenants.yaml", () => {
  it("is valid, so the corpus starts from a manifest that passes", () => {
    const file = path.join(root, "tenants.yaml");
    const result = parseManifest(readFileSync(file, "utf8"), file);
    expect(result.ok ? [] : result.problems.map((p) => formatProblem(p))).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
