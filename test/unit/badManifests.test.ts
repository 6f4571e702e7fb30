// A corpus of invalid manifests: each fixture under test/fixtures/bad/ states in its header the
// exact problems a user should see (`# expect: LINE:COL path: message fragment`), nothing more.
// Fixtures are read as bytes, as a manifest file is: some are not UTF-8 text, or not text.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest, parseManifestBytes } from "../../manifest/load";
import { formatPath, formatProblem, type LocatedProblem } from "../../manifest/problems";

const root = path.resolve(__dirname, "../..");
const badDir = path.join(root, "test/fixtures/bad");
const fixtures = readdirSync(badDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));

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

/** A fixture's text; only its header (UTF-8) is read from it, the rest may be any bytes. */
function header(file: string): string {
  return readFileSync(path.join(badDir, file)).toString("utf8");
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
      expect(file).toMatch(/^\d{2,3}-[a-z0-9-]+\.yaml$/);
      expect(expectations(header(file)).length).toBeGreaterThan(0);
    }
  });

  it("numbers each fixture once, without gaps", () => {
    expect(fixtures.map((f) => parseInt(f, 10))).toEqual(fixtures.map((_, i) => i + 1));
  });

  it.each(fixtures)("%s reports exactly the expected problems", (file) => {
    const expected = expectations(header(file));
    const result = parseManifestBytes(readFileSync(path.join(badDir, file)), file);
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
