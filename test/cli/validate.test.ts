// `tenantry validate` run as a user runs it: the summary on a valid manifest, every problem at
// its FILE:LINE:COL on a broken one, and with --stack the secrets the stack file must hold.
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../manifest/schema";
import {
  brokenExample,
  EXAMPLE,
  isManaged,
  manifestOf,
  positionOf,
  problemLines,
  PULUMI_DEV_YAML,
  PULUMI_YAML,
  tenantry,
  useScratch,
  escapeRegExp as escape,
} from "./run";

const scratch = useScratch();
const example = manifestOf(EXAMPLE);

/** `tenants.yaml:LINE:COL path: ` for the place `steps` lead to in the example. */
function at(text: string, path: string, ...steps: string[]): string {
  const { line, col } = positionOf(text, ...steps);
  return `tenants.yaml:${line}:${col} ${path}: `;
}

/** The summary line, its numbers computed from the manifest: plans' memory over hosts' budget. */
function summary(m: Manifest): string {
  const tenants = Object.values(m.tenants);
  const hosts = Object.values(m.hosts);
  const allocated = tenants.reduce((sum, t) => sum + m.plans[t.plan]!.memoryMb, 0);
  const budget = hosts.reduce((sum, h) => sum + h.memoryMb - h.reserveMb, 0);
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `tenants.yaml: valid, ${count(tenants.length, "tenant")} on ${count(hosts.length, "host")}, ${allocated}/${budget} MB allocated`;
}

/** Every secretEnv key of every tenant, with where it is written in the example. */
const secretKeys = Object.entries(example.tenants).flatMap(([tenant, t]) =>
  t.secretEnv.map((key, i) => ({
    tenant,
    key,
    configKey: `tenant.${tenant}.${key}`,
    where: at(EXAMPLE, `tenants.${tenant}.secretEnv[${i}]`, `\n  ${tenant}:`, "secretEnv:", key),
  })),
);

/** A stack file as `pulumi config set --secret` writes it; `plain` keys are set without --secret. */
function stackFile(plain: Record<string, string> = {}): string {
  const lines = ["config:", "  tenantry:tenantsFile: tenants.yaml"];
  const set = (key: string, i: number) => {
    if (key in plain) lines.push(`  ${key}: ${plain[key]}`);
    else lines.push(`  ${key}:`, `    secure: v1:AAABAGk3bW9ja2VkY2lwaGVydGV4dA${i}==`);
  };
  secretKeys.forEach(({ configKey }, i) => set(`tenantry:${configKey}`, i));
  set("cloudflare:apiToken", secretKeys.length);
  return `${lines.join("\n")}\n`;
}

describe.concurrent("tenantry validate", () => {
  it("accepts the example with a one-line summary of tenants, hosts and memory", async () => {
    const dir = scratch("valid", { "tenants.yaml": EXAMPLE });
    const result = await tenantry(dir, "validate");
    expect(result).toEqual({ code: 0, stdout: `${summary(example)}\n`, stderr: "" });
  });

  it("lists every problem of a broken copy as FILE:LINE:COL key.path: message, exit 1", async () => {
    const broken = brokenExample();
    const dir = scratch("broken", { "tenants.yaml": broken });
    const result = await tenantry(dir, "validate");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const expected = [
      at(broken, "hosts.vps1.prot", "\n  vps1:", "prot") +
        'unknown key "prot" (did you mean "port"?)',
      at(broken, "tenants.company2.domain", "\n  company2:", "domain: ", "mcoder.example.com") +
        'domain mcoder.example.com is already served by tenant "markplus"',
      at(broken, "tenants.tenant1.plan", "\n  tenant1:", "plan: ", "teem") +
        'unknown plan "teem" (did you mean "team"?)',
      at(broken, "tenants.tenant1.slot", "\n  tenant1:", "slot: ", "2") +
        'slot 2 on host "vps1" is already taken by tenant "company2"',
    ];
    const { problems, summary: last } = problemLines(result.stderr);
    expect(problems.map((line, i) => line.slice(0, expected[i]?.length))).toEqual(expected);
    expect(last).toBe("4 problems; nothing was changed.");
  });

  it("names a missing manifest in one line, exit 2", async () => {
    const dir = scratch("missing", {});
    const result = await tenantry(dir, "validate", "customers.yaml");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^tenantry: [^\n]*\bcustomers\.yaml\b[^\n]*\n$/);
  });

  it("--stack dev with the shipped Pulumi.dev.yaml (no secrets) names each `pulumi config set --secret` command, exit 1", async () => {
    const dir = scratch("stack-missing", {
      "tenants.yaml": EXAMPLE,
      "Pulumi.yaml": PULUMI_YAML,
      "Pulumi.dev.yaml": PULUMI_DEV_YAML,
    });
    const result = await tenantry(dir, "validate", "--stack", "dev");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const domains = Object.values(example.tenants).flatMap((t) => [t.domain, ...t.aliases]);
    expect(domains.some((d) => isManaged(example, d))).toBe(true); // so the token is needed
    const expected = [
      `^${escape(at(EXAMPLE, "dns.zones", "\ndns:", "zones:", "example.com"))}.*${escape("pulumi config set --secret cloudflare:apiToken <token>")}`,
      ...secretKeys.map(
        (s) =>
          `^${escape(s.where)}.*${escape(`: pulumi config set --secret ${s.configKey} <value>`)}$`,
      ),
    ];
    const { problems, summary: last } = problemLines(result.stderr);
    expect(problems).toEqual(expected.map((re): unknown => expect.stringMatching(new RegExp(re))));
    expect(problems.join("\n")).toContain(
      "pulumi config set --secret tenant.markplus.OPENAI_API_KEY <value>",
    );
    expect(last).toBe(`${expected.length} problems; nothing was changed.`);
  });

  it("--stack dev refuses a secret stored in plain text, without printing its value", async () => {
    const value = "sk-live-PLAINTEXT-do-not-print";
    const dir = scratch("stack-plain", {
      "tenants.yaml": EXAMPLE,
      "Pulumi.yaml": PULUMI_YAML,
      "Pulumi.dev.yaml": stackFile({ "tenantry:tenant.markplus.OPENAI_API_KEY": value }),
    });
    const result = await tenantry(dir, "validate", "--stack", "dev");
    expect(result.code).toBe(1);
    const markplus = secretKeys.find((s) => s.configKey === "tenant.markplus.OPENAI_API_KEY")!;
    expect(problemLines(result.stderr)).toEqual({
      problems: [
        expect.stringMatching(
          new RegExp(
            `^${escape(markplus.where)}.*plain text.*${escape("pulumi config set --secret tenant.markplus.OPENAI_API_KEY <value>")}$`,
          ),
        ),
      ],
      summary: "1 problem; nothing was changed.",
    });
    expect(result.stdout + result.stderr).not.toContain(value);
  });

  it("--stack dev passes when every secret is set as {secure: v1:...}", async () => {
    const dir = scratch("stack-complete", {
      "tenants.yaml": EXAMPLE,
      "Pulumi.yaml": PULUMI_YAML,
      "Pulumi.dev.yaml": stackFile(),
    });
    const result = await tenantry(dir, "validate", "--stack", "dev");
    expect(result).toEqual({
      code: 0,
      stdout: `${summary(example)}; stack dev: every secret it needs is set\n`,
      stderr: "",
    });
  });

  describe.each([
    {
      kind: "s3",
      url: "s3:https://s3.example.com/backups/tenantry",
      keys: [
        ["AWS_ACCESS_KEY_ID", "<value>"],
        ["AWS_SECRET_ACCESS_KEY", "<value>"],
      ],
    },
    {
      kind: "sftp",
      url: "sftp:backup@203.0.113.20:/srv/tenantry",
      keys: [["sshKey", "< ~/.ssh/backup_key"]],
    },
  ])("--stack dev with an $kind offsite repository on vps1", ({ kind, url, keys }) => {
    const hostKey =
      kind === "sftp"
        ? "\n        hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i"
        : "";
    const manifest = EXAMPLE.replace(
      /^( {6}keepDaily: 7 .*\n)/m,
      `$1      offsite:\n        url: ${url}${hostKey}\n`,
    );
    const where = at(
      manifest,
      "hosts.vps1.backup.offsite",
      "\n  vps1:",
      "backup:",
      "offsite:",
      "url:",
    );
    const withCredentials = (plain: Record<string, string> = {}) =>
      stackFile().replace(
        "config:\n",
        `config:\n${keys
          .map(([key], i) => {
            const full = `tenantry:backup.vps1.${key}`;
            return full in plain
              ? `  ${full}: ${plain[full]}\n`
              : `  ${full}:\n    secure: v1:AAABAGJhY2t1cGNpcGhlcnRleHQ${i}==\n`;
          })
          .join("")}`,
      );

    it("names each missing credential at the offsite entry with its `pulumi config set --secret` command, exit 1", async () => {
      const dir = scratch(`offsite-missing-${kind}`, {
        "tenants.yaml": manifest,
        "Pulumi.yaml": PULUMI_YAML,
        "Pulumi.dev.yaml": stackFile(),
      });
      const result = await tenantry(dir, "validate", "--stack", "dev");
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(problemLines(result.stderr)).toEqual({
        problems: keys.map(
          ([key, value]) =>
            `${where}stack config has no secret backup.vps1.${key} (${kind === "s3" ? (key === "AWS_ACCESS_KEY_ID" ? "the access key ID" : "the secret access key") : "the SSH private key"} for host vps1's offsite repository ${url}); set it with: pulumi config set --secret backup.vps1.${key} ${value}`,
        ),
        summary: `${keys.length} problem${keys.length === 1 ? "" : "s"}; nothing was changed.`,
      });
    });

    it("refuses a credential stored in plain text, without printing its value", async () => {
      const [key, value] = keys[0]!;
      const secret = "PLAINTEXT-credential-do-not-print";
      const dir = scratch(`offsite-plain-${kind}`, {
        "tenants.yaml": manifest,
        "Pulumi.yaml": PULUMI_YAML,
        "Pulumi.dev.yaml": withCredentials({ [`tenantry:backup.vps1.${key}`]: secret }),
      });
      const result = await tenantry(dir, "validate", "--stack", "dev");
      expect(result.code).toBe(1);
      expect(problemLines(result.stderr)).toEqual({
        problems: [
          `${where}stack config holds backup.vps1.${key} in plain text (readable in the stack file); re-set it encrypted with: pulumi config set --secret backup.vps1.${key} ${value}`,
        ],
        summary: "1 problem; nothing was changed.",
      });
      expect(result.stdout + result.stderr).not.toContain(secret);
    });

    it("passes when every credential is set as {secure: v1:...}", async () => {
      const dir = scratch(`offsite-complete-${kind}`, {
        "tenants.yaml": manifest,
        "Pulumi.yaml": PULUMI_YAML,
        "Pulumi.dev.yaml": withCredentials(),
      });
      const result = await tenantry(dir, "validate", "--stack", "dev");
      expect(result).toEqual({
        code: 0,
        stdout: `${summary(manifestOf(manifest))}; stack dev: every secret it needs is set\n`,
        stderr: "",
      });
    });
  });

  it("--stack with no stack file says how to create the stack, exit 2", async () => {
    const dir = scratch("stack-absent", { "tenants.yaml": EXAMPLE, "Pulumi.yaml": PULUMI_YAML });
    const result = await tenantry(dir, "validate", "--stack", "prod");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Pulumi.prod.yaml");
    expect(result.stderr).toContain("pulumi stack init prod");
  });
});
