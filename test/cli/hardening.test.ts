// The CLI against a hostile or unlucky user: several `add`s at once, a symlinked manifest,
// names that are JavaScript's own, a directory or a binary file where the manifest should be,
// and a manifest whose DNS record names collided under the old naming.
import { mkdirSync, lstatSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  EXAMPLE,
  filesIn,
  manifestOf,
  positionOf,
  problemLines,
  read,
  slotAfterHighest,
  tenantry,
  useScratch,
  escapeRegExp as escape,
} from "./run";

const scratch = useScratch();
const example = manifestOf(EXAMPLE);
const addArgs = (name: string) => [
  ...["add", name, "--app", "mcoder", "--plan", "small", "--domain", `${name}.example.com`],
];
/** The example on a host with room for six more small tenants. */
const roomy = EXAMPLE.replace("    memoryMb: 2048 #", "    memoryMb: 8192 #");

describe("tenantry add, six at once", () => {
  it("keeps all six, each in its own slot, each told the slot it got", async () => {
    const dir = scratch("six", { "tenants.yaml": roomy });
    const names = ["c1", "c2", "c3", "c4", "c5", "c6"];
    const results = await Promise.all(names.map((n) => tenantry(dir, ...addArgs(n))));
    for (const r of results)
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });

    const after = manifestOf(read(dir)); // the file validates
    const first = slotAfterHighest(example, "vps1");
    const slots = names.map((n) => after.tenants[n]?.slot);
    expect([...slots].sort((a, b) => a! - b!)).toEqual(names.map((_, i) => first + i));
    results.forEach((r, i) => expect(r.stdout).toContain(`host vps1  slot ${slots[i]}\n`));
    expect(Object.keys(after.tenants).sort()).toEqual(
      [...Object.keys(example.tenants), ...names].sort(),
    );
    expect(filesIn(dir)).toEqual(["tenants.yaml"]); // no lock or temp file left
  }, 120_000);
});

describe.concurrent("tenantry add, edge cases", () => {
  it("writes the file a symlinked tenants.yaml points at, and the link stays a link", async () => {
    const dir = scratch("symlink", {});
    mkdirSync(path.join(dir, "shared"));
    writeFileSync(path.join(dir, "shared", "tenants.yaml"), EXAMPLE);
    symlinkSync(path.join("shared", "tenants.yaml"), path.join(dir, "tenants.yaml"));
    const result = await tenantry(dir, ...addArgs("acme"));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(lstatSync(path.join(dir, "tenants.yaml")).isSymbolicLink()).toBe(true);
    expect(manifestOf(read(dir, "shared/tenants.yaml")).tenants.acme).toBeDefined();
    expect(filesIn(path.join(dir, "shared"))).toEqual(["tenants.yaml"]);
  });

  it("adds a tenant called constructor: a name like any other", async () => {
    const dir = scratch("constructor", { "tenants.yaml": EXAMPLE });
    const result = await tenantry(dir, ...addArgs("constructor"));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Added tenant constructor to tenants\.yaml/);
    expect(manifestOf(read(dir)).tenants.constructor).toMatchObject({ app: "mcoder" });
  });

  it.each([
    {
      what: "--app __proto__",
      args: ["acme", "--app", "__proto__", "--plan", "small", "--domain", "acme.example.com"],
      problem: "--app __proto__ (tenants.acme.app): app name must be a DNS label",
    },
    {
      what: "--host constructor",
      args: [...addArgs("acme").slice(1), "--host", "constructor"],
      problem:
        '--host constructor (tenants.acme.host): unknown host "constructor"; defined under hosts: "vps1"',
    },
    {
      what: "--plan tostring",
      args: ["acme", "--app", "mcoder", "--plan", "tostring", "--domain", "acme.example.com"],
      problem: '--plan tostring (tenants.acme.plan): unknown plan "tostring"',
    },
    {
      what: "--env __proto__=1",
      args: [...addArgs("acme").slice(1), "--env", "__proto__=1"],
      problem:
        '--env __proto__=... (tenants.acme.env.__proto__): "__proto__": must be an environment variable name',
    },
    {
      what: "a tenant named __proto__",
      args: addArgs("__proto__").slice(1),
      problem: 'tenant __proto__ (tenants.__proto__): "__proto__": tenant name must be a DNS label',
    },
  ])(
    "refuses $what as the user typed it, exit 1, file untouched",
    async ({ what, args, problem }) => {
      const dir = scratch(what.replace(/\W+/g, "-"), { "tenants.yaml": EXAMPLE });
      const result = await tenantry(dir, "add", ...args);
      expect(result.stdout).toBe("");
      expect(problemLines(result.stderr)).toEqual({
        problems: [expect.stringContaining(problem)],
        summary: "1 problem; nothing was changed.",
      });
      expect(result.code).toBe(1);
      expect(read(dir)).toBe(EXAMPLE);
    },
  );
});

describe.concurrent("tenantry validate on what is not a manifest", () => {
  it("says a directory is a directory and names the manifest inside it, exit 2", async () => {
    const dir = scratch("dir", {});
    mkdirSync(path.join(dir, "prod"));
    writeFileSync(path.join(dir, "prod", "tenants.yaml"), EXAMPLE);
    const result = await tenantry(dir, "validate", "prod");
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: `tenantry: prod is a directory, not a manifest; pass the file: ${path.join("prod", "tenants.yaml")}\n`,
    });
  });

  it("says a binary file is one, in one line, instead of printing what it holds", async () => {
    const dir = scratch("binary", {});
    const garbage = Buffer.alloc(456 * 1024);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 256;
    writeFileSync(path.join(dir, "tenants.yaml"), garbage);
    const result = await tenantry(dir, "validate");
    expect(result.code).toBe(1);
    expect(problemLines(result.stderr)).toEqual({
      problems: [
        "tenants.yaml:1:1 (top level): this is a binary file, not a manifest (a NUL byte here): tenants.yaml is YAML text; check the file name",
      ],
      summary: "1 problem; nothing was changed.",
    });
  });

  it("points at the byte that is not UTF-8 instead of reading it as something else", async () => {
    // "Café" saved as Latin-1: é is the one byte 0xe9, in a file that is UTF-8 elsewhere.
    const [before, after] = EXAMPLE.split("COMPANY_NAME: MarkPlus") as [string, string];
    const bytes = Buffer.concat([
      Buffer.from(`${before}COMPANY_NAME: MarkPlus Caf`),
      Buffer.from([0xe9]),
      Buffer.from(after),
    ]);
    const at = positionOf(`${before}COMPANY_NAME: MarkPlus Caf?`, "MarkPlus Caf?", "?");
    const dir = scratch("latin1", {});
    writeFileSync(path.join(dir, "tenants.yaml"), bytes);
    const result = await tenantry(dir, "validate");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^tenants\\.yaml:${at.line}:${at.col} \\(top level\\): not UTF-8 text: byte 0xe9 `,
      ),
    );
  });
});

describe("tenantry plan with the issue's DNS names", () => {
  // Under the old naming both alias records were `a-dns-b-dns-c.example.com`: one URN twice.
  const text = `${EXAMPLE}
  a:
    app: mcoder
    plan: small
    host: vps1
    slot: 4
    domain: a.example.com
    aliases: [b-dns-c.example.com]
  a-dns-b:
    app: mcoder
    plan: small
    host: vps1
    slot: 5
    domain: a-dns-b.example.com
    aliases: [c.example.com]
`.replace("    memoryMb: 2048 #", "    memoryMb: 8192 #");

  it("evaluates: every record has a URN of its own", async () => {
    const dir = scratch("dns-names", { "tenants.yaml": text });
    const result = await tenantry(dir, "plan");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`cloudflare\\.DnsRecord +${escape("a-dns/b-dns-c.example.com")}\\n`),
    );
    expect(result.stdout).toMatch(
      new RegExp(`cloudflare\\.DnsRecord +${escape("a-dns-b-dns/c.example.com")}\\n`),
    );
  }, 120_000);
});
