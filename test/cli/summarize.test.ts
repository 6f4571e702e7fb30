// `tenantry summarize` run as CI runs it: the Markdown on stdout, the exit code the workflow
// gates on (1 for data loss unless --allow-data-loss, 2 for a file that is not a preview).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { summarizePreview } from "../../preview/changes";
import { parsePreview } from "../../preview/digest";
import { renderMarkdown } from "../../preview/render";
import { tenantry, useScratch } from "./run";

const FIXTURES = path.resolve(__dirname, "../fixtures/preview");
const fixture = (name: string) => path.join(FIXTURES, `${name}.json`);
const scratch = useScratch();

function markdown(name: string, allowDataLoss = false): string {
  const digest = parsePreview(readFileSync(fixture(name), "utf8"), name);
  return renderMarkdown(summarizePreview(digest), {
    mode: "preview",
    allowDataLoss,
    maxChars: 65_000,
  });
}

describe.concurrent("tenantry summarize", () => {
  it("prints the Markdown and exits 0 when nothing loses data", async () => {
    const result = await tenantry(FIXTURES, "summarize", fixture("multi-tenant"));
    expect(result).toEqual({ code: 0, stdout: markdown("multi-tenant"), stderr: "" });
    expect(result.stdout).toContain("| newco | vps1 | 8 |  |  |  | NEW TENANT |");
  });

  it("exits 1 on DATA LOSS, naming the tenants, and still prints the summary", async () => {
    const result = await tenantry(FIXTURES, "summarize", fixture("data-loss"));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(markdown("data-loss"));
    expect(result.stderr).toBe(
      "tenantry summarize: DATA LOSS for tenant1; re-run with --allow-data-loss if that is intended.\n",
    );
  });

  it("exits 0 on DATA LOSS with --allow-data-loss, and says it was accepted", async () => {
    const result = await tenantry(FIXTURES, "summarize", fixture("data-loss"), "--allow-data-loss");
    expect(result).toEqual({ code: 0, stdout: markdown("data-loss", true), stderr: "" });
  });

  it("a retained volume is no data loss: an offboarding exits 0", async () => {
    const result = await tenantry(FIXTURES, "summarize", fixture("offboard"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("OFFBOARDED, RETAINED");
  });

  it("--drift words it as a drift check and never fails for data loss", async () => {
    const drift = await tenantry(FIXTURES, "summarize", "--drift", fixture("drift"));
    expect(drift.code).toBe(0);
    expect(drift.stdout.split("\n")[0]).toBe("## tenantry drift check");
    const loss = await tenantry(FIXTURES, "summarize", "--drift", fixture("data-loss"));
    expect(loss.code).toBe(0);
    expect(loss.stdout).toContain("**DATA LOSS** if `pulumi up` ran now:");
  });

  it("reads stdin with -", async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [path.resolve(__dirname, "../../bin/tenantry.cjs"), "summarize", "-"],
        { encoding: "utf8" },
        (error, out) => (error ? reject(new Error(error.message)) : resolve(out)),
      );
      child.stdin!.end(readFileSync(fixture("new-tenant")));
    });
    expect(stdout).toBe(markdown("new-tenant"));
  });

  it.each([
    ["malformed-syntax", /^malformed-syntax\.json:11:13 \(top level\): not valid JSON /],
    ["malformed-shape", /^malformed-shape\.json:4:19 steps\[0\]\.op: is string "destroy" /],
  ])("%s: exits 2 with the problems and prints no summary", async (name, first) => {
    const result = await tenantry(FIXTURES, "summarize", `${name}.json`);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(first);
    expect(lines[lines.length - 1]).toBe(
      `${name}.json is not a preview tenantry can read; nothing was summarized.`,
    );
  });

  it("a missing file or a bad --max-chars is a usage error (exit 2)", async () => {
    const dir = scratch("empty", {});
    const missing = await tenantry(dir, "summarize", "preview.json");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      "tenantry: preview.json: no such file (pass the file `pulumi preview --json --show-replacement-steps > preview.json` wrote, or - for stdin)\n",
    );
    const bad = await tenantry(FIXTURES, "summarize", fixture("empty"), "--max-chars", "lots");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("a whole number of characters (0 for no limit)");
  });

  it("--max-chars caps the output", async () => {
    const result = await tenantry(
      FIXTURES,
      "summarize",
      fixture("rename-aliases"),
      "--max-chars",
      "1500",
    );
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeLessThanOrEqual(1500);
    expect(result.stdout).toContain("| company3 (was company2) | vps1 |");
    expect(result.stdout).toContain("_Left out to stay within 1,500 characters:");
  });
});
