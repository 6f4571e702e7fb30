// `tenantry status` and certificates: the part of the status script that reads each tenant's
// certificate's notAfter (run here with /bin/sh against a certificate openssl makes), how the
// host's answer parses, and what the status says and calls a problem.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  certificateText,
  renderStatus,
  tenantStatus,
  type TenantStatus,
} from "../../cli/commands/status";
import { parseManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";
import { planTenant } from "../../plan/tenant";
import { CERT_QUERY, parseNotAfter, parseStatus, statusScript } from "../../remote/status";
import { describeWith } from "../support/prereq";
import { shellcheck } from "../support/shellcheck";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i";
const MANIFEST = `tls: { mode: acme, email: ops@example.org }
hosts:
  vps1: { address: 203.0.113.10, user: deploy, hostKey: ${KEY}, memoryMb: 2048 }
apps:
  notes:
    services:
      web: { image: "nginx:1.27", port: 80, route: / }
plans:
  small: { memoryMb: 96, cpus: 0.5 }
tenants:
  acme: { app: notes, plan: small, host: vps1, slot: 1, domain: acme.example.org }
  plain: { app: notes, plan: small, host: vps1, slot: 2, domain: plain.example.org, tls: none }
  gone: { app: notes, plan: small, host: vps1, slot: 3, domain: gone.example.org, state: decommissioned }
`;
const parsed = parseManifest(MANIFEST, "t.yaml");
if (!parsed.ok) throw new Error(parsed.problems.map(formatProblem).join("\n"));
const m = parsed.loaded.manifest;
const acme = planTenant(m, "acme");
const ACME_CERT = "/etc/letsencrypt/live/tenantry-acme/fullchain.pem";
const NOW = new Date("2026-12-02T00:00:00Z");

/** The host's answer with one line about acme's certificate. */
const answer = (cert?: string) =>
  parseStatus(
    [
      "tenantry-status 1",
      "container|/acme-web|running|none|0|100663296|2026-12-01T10:00:00Z",
      ...(cert === undefined ? [] : [`cert|${ACME_CERT}|${cert}`]),
      "end",
      "",
    ].join("\n"),
  );

describe("certificate expiry in status", () => {
  it.each([
    ["notAfter=Feb 28 12:00:00 2027 GMT", "2027-02-28T12:00:00.000Z"],
    ["notAfter=Mar  1 00:00:05 2027 GMT\n", "2027-03-01T00:00:05.000Z"],
    ["notAfter=Foo  1 00:00:05 2027 GMT", undefined],
    ["Could not open file", undefined],
  ])("reads openssl's %j as %s", (text, iso) => {
    expect(parseNotAfter(text)).toBe(iso);
  });

  it("parses each kind of answer about a certificate file", () => {
    const a = parseStatus(
      [
        "tenantry-status 1",
        "cert|/a.pem|notAfter=Feb 28 12:00:00 2027 GMT",
        "cert|/b.pem|missing",
        "cert|/c.pem|unreadable",
        "cert|/d.pem|no-openssl",
        "cert|/e.pem|error=Could not read certificate from /e.pem",
        "end",
      ].join("\n"),
    );
    expect(Object.fromEntries(a.certificates)).toEqual({
      "/a.pem": { kind: "ok", expires: "2027-02-28T12:00:00.000Z" },
      "/b.pem": { kind: "missing" },
      "/c.pem": { kind: "unreadable" },
      "/d.pem": { kind: "no-openssl" },
      "/e.pem": { kind: "error", message: "Could not read certificate from /e.pem" },
    });
  });

  it.each<[string, string | undefined, TenantStatus["certificate"], string, string[]]>([
    [
      "valid",
      "notAfter=Feb 28 12:00:00 2027 GMT",
      { expires: "2027-02-28T12:00:00.000Z", daysLeft: 88 },
      "expires 2027-02-28 (88 days)",
      [],
    ],
    [
      "due",
      "notAfter=Dec 12 12:00:00 2026 GMT",
      { expires: "2026-12-12T12:00:00.000Z", daysLeft: 10 },
      "expires 2026-12-12 (10 days)",
      [
        `certificate ${ACME_CERT} expires on 2026-12-12, in 10 days: certbot renews at 30 days left, so its renewal fails (on the host: sudo certbot renew --dry-run says why)`,
      ],
    ],
    [
      "expired",
      "notAfter=Nov 29 00:00:00 2026 GMT",
      { expires: "2026-11-29T00:00:00.000Z", daysLeft: -3 },
      "EXPIRED 2026-11-29 (3 days ago)",
      [
        `certificate ${ACME_CERT} expired on 2026-11-29: certbot did not renew it (on the host: sudo certbot renew --dry-run says why)`,
      ],
    ],
    [
      "missing",
      "missing",
      null,
      `unknown (no certificate at ${ACME_CERT})`,
      [
        `no certificate at ${ACME_CERT}: HTTPS is not set up (pulumi up's TLS step gets it, or says why it cannot)`,
      ],
    ],
    ["without openssl", "no-openssl", null, "unknown (openssl missing)", []],
    [
      "unreadable",
      "unreadable",
      null,
      "unknown (not readable by the SSH user, who may not run the entry point through sudo: certbot keeps it root's; the README's sudoers line lets status read it)",
      [],
    ],
    ["not reported", undefined, null, "unknown (not reported by the host)", []],
  ])("a %s certificate", (_name, line, certificate, text, problems) => {
    const t = tenantStatus(acme, answer(line), NOW);
    expect(t.certificate).toEqual(certificate);
    expect(certificateText(t)).toBe(text);
    expect(t.problems).toEqual(problems);
  });

  it("shows one line per tenant with TLS, in JSON a field that is null without TLS", () => {
    const a = answer("notAfter=Feb 28 12:00:00 2027 GMT");
    const tenants = ["acme", "plain", "gone"].map((n) => tenantStatus(planTenant(m, n), a, NOW));
    expect(tenants.map((t) => [t.tenant, t.certificate, t.certificateUnknown])).toEqual([
      ["acme", { expires: "2027-02-28T12:00:00.000Z", daysLeft: 88 }, undefined],
      ["plain", null, undefined],
      ["gone", null, undefined],
    ]);
    expect(JSON.parse(JSON.stringify(tenants[1]))).toMatchObject({ certificate: null });
    const text = renderStatus([{ host: "vps1", target: "vps1 (deploy@203.0.113.10:22)", tenants }]);
    expect(text.split("\n").filter((l) => l.includes("certificate"))).toEqual([
      "  acme: certificate expires 2027-02-28 (88 days)",
    ]);
  });

  it("asks for each certificate file once, quoted", () => {
    const text = statusScript({
      containers: [],
      volumes: [],
      identities: [],
      certificates: [ACME_CERT, "/etc/it's here.pem", ACME_CERT],
    }).text;
    expect(text).toContain(`\nset -- ${ACME_CERT} '/etc/it'\\''s here.pem'\n`);
    expect(statusScript({ containers: [], volumes: [], identities: [] }).text).not.toContain(
      "cert_query",
    );
  });
});

describeWith("the certificate query", ["shellcheck", "openssl"], () => {
  const dir = mkdtempSync(path.join(tmpdir(), "tenantry-cert-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes shellcheck, as the status script and as the query it runs", () => {
    const script = statusScript({
      containers: ["acme-web"],
      volumes: ["acme-web-data"],
      identities: ["acme"],
      certificates: [ACME_CERT, "/etc/it's here.pem"],
    });
    expect(shellcheck(script.text)).toBe("");
    expect(shellcheck(`#!/bin/sh\n${CERT_QUERY}`)).toBe("");
  });

  it("reads a real certificate's notAfter, and says which files are missing or not certificates", () => {
    const cert = path.join(dir, "it's a cert.pem");
    const junk = path.join(dir, "junk.pem");
    execFileSync("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"],
      ...["-keyout", path.join(dir, "key.pem"), "-out", cert, "-days", "30", "-subj", "/CN=t"],
    ]);
    execFileSync("sh", ["-c", `echo not a certificate >"$1"`, "sh", junk]);
    const run = (env: NodeJS.ProcessEnv) =>
      parseStatus(
        `tenantry-status 1\n${execFileSync("/bin/sh", ["-c", CERT_QUERY, "q", cert, junk, path.join(dir, "none.pem")], { encoding: "utf8", env })}end\n`,
      ).certificates;
    const found = run(process.env);
    const expires = found.get(cert);
    expect(expires?.kind).toBe("ok");
    const days = (Date.parse((expires as { expires: string }).expires) - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
    expect(found.get(junk)?.kind).toBe("error");
    const root = process.getuid?.() === 0;
    expect(found.get(path.join(dir, "none.pem"))).toEqual({
      kind: root ? "missing" : "unreadable",
    });
    // A host without openssl: every file is unknown, nothing fails.
    const without = run({ PATH: "/nonexistent" });
    expect([...without.values()]).toEqual([
      { kind: "no-openssl" },
      { kind: "no-openssl" },
      { kind: "no-openssl" },
    ]);
  });
});
