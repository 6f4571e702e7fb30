// The root entry point (remote/entry.ts): one constant script that passes shellcheck, and whose
// argument checks on the host decide exactly as the program's own (remote/operation.ts), so a
// command the program builds is never refused on the host and a value it refuses never runs.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { OPERATIONS, entryPointText, entryPointVersion } from "../../remote/entry";
import { asRoot, checkArgument, type RootOperation } from "../../remote/operation";
import { hasHostValue } from "../../remote/shell";
import { describeWith } from "../support/prereq";
import { shellcheck } from "../support/shellcheck";

const dir = mkdtempSync(join(tmpdir(), "tenantry-entry-"));
const entry = join(dir, "tenantry-root");
writeFileSync(entry, entryPointText(), { mode: 0o755 });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Values a manifest or a hand-edited command could hand an operation: valid and hostile. */
const SAMPLES = [
  "acme",
  "acme-2",
  "vps1",
  "acme@vps1",
  "acme-web-0a1b2c",
  "0123456789abcdef",
  "/etc/nginx/tenantry",
  "/etc/nginx/conf.d/tenantry.conf",
  "/etc/nginx/nginx.conf",
  "/etc/nginx/tenantry.d/main.conf",
  "/etc/letsencrypt/live/tenantry-acme/fullchain.pem",
  "",
  "ACME",
  "-acme",
  "acme-",
  "a".repeat(32),
  "/etc",
  "/etc/nginx",
  "/etc/nginx/",
  "/etc/nginx//tenantry",
  "/etc/nginx/tenantry/../../cron.d",
  "/etc/nginx/./tenantry",
  "/etc/nginx/sites-enabled/x",
  "/etc/nginx/modules-enabled/x.conf",
  "/etc/nginx/fastcgi.conf",
  "/etc/letsencrypt/live/../../shadow/fullchain.pem",
  "/etc/passwd",
  "acme\nvps1",
  "acme\r",
  "it's",
  "$(id)",
  "a b",
  "--yes",
];

/** The host's verdict: the entry point's own check function, run by /bin/sh. */
function hostAccepts(op: RootOperation, index: number, value: string): boolean {
  const text = entryPointText();
  const start = text.indexOf("check() {");
  const check = text.slice(start, text.indexOf("\n}\n", start) + 3);
  const param = index < 0 ? op.rest! : op.params[index]!;
  const run = spawnSync(
    "/bin/sh",
    [
      "-c",
      `set -eu\nexport LC_ALL=C\nrefuse() { exit 2; }\nnl='\n'\nop=${op.name}\n${check}\ncheck "$@"`,
      "sh",
      param.name,
      value,
      param.pattern,
      param.deny ?? "",
      param.optional === true ? "optional" : "required",
      param.what,
    ],
    { encoding: "utf8" },
  );
  if (run.status !== 0 && run.status !== 2) throw new Error(run.stderr);
  return run.status === 0;
}

function programAccepts(op: RootOperation, index: number, value: string): boolean {
  try {
    checkArgument(op, index < 0 ? op.rest! : op.params[index]!, value);
    return true;
  } catch {
    return false;
  }
}

const PARAMS = OPERATIONS.flatMap((op) => [
  ...op.params.map((p, i) => [`${op.name} ${p.name}`, op, i] as const),
  ...(op.rest === undefined ? [] : [[`${op.name} ${op.rest.name}...`, op, -1] as const]),
]);

it.each(PARAMS)("checks %s on the host exactly as the program does", (_name, op, index) => {
  const verdicts = SAMPLES.map((v) => [v, programAccepts(op, index, v)] as const);
  expect(verdicts.map(([v]) => [v, hostAccepts(op, index, v)])).toEqual(verdicts);
  // Every argument refuses a value that spans lines, wherever its pattern would match.
  expect(verdicts.find(([v]) => v === "acme\nvps1")![1]).toBe(false);
});

it("runs no operation it does not know, and names the ones it does", () => {
  const run = spawnSync("/bin/sh", [entry, "sh", "-c", "id"], { encoding: "utf8" });
  expect(run.status).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).toContain("tenantry-root: unknown operation sh\n");
  const lines = run.stderr.split("\n");
  for (const op of OPERATIONS) expect(lines.some((l) => l.split(" ")[0] === op.name)).toBe(true);
});

it("prints its version, the digest the bootstrap compares", () => {
  expect(execFileSync("/bin/sh", [entry, "version"], { encoding: "utf8" })).toBe(
    `${entryPointVersion()}\n`,
  );
  expect(entryPointText()).toContain(`\nversion=${entryPointVersion()}\n`);
  expect(hasHostValue(entryPointText())).toBe(false);
});

it("refuses a command whose argument the host would refuse, before it is built", () => {
  const site = OPERATIONS.find((op) => op.name === "site-install")!;
  expect(() =>
    asRoot("deploy", site, ["/etc/nginx/tenantry", "/etc/nginx/conf.d/t.conf", "", "$(id)"]),
  ).toThrow(`tenantry-root site-install: tenant "$(id)" is not a tenant name`);
  expect(() => asRoot("deploy", site, ["/etc/nginx/tenantry"])).toThrow(
    "tenantry-root site-install takes 4 arguments, not 1",
  );
});

describeWith("the entry point's text", ["shellcheck"], () => {
  it("passes shellcheck -s sh", () => {
    expect(shellcheck(entryPointText())).toBe("");
  });
});
