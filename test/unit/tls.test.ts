// TLS planning as pure functions on tables of manifests: which mode each tenant gets, what the
// rules refuse, and what a change would ask Let's Encrypt for, counted against its limits.
import { describe, expect, it } from "vitest";
import { registeredDomain, wildcardZoneOf } from "../../core/tls";
import { parseManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";
import type { Manifest } from "../../manifest/schema";
import { planTenant } from "../../plan/tenant";
import {
  certificateRequests,
  checkAcmeLimits,
  describeDirectory,
  directorySuffix,
  manifestCertificates,
} from "../../plan/tls";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i";

interface TenantSpec {
  readonly domain: string;
  readonly host?: string;
  readonly aliases?: readonly string[];
  readonly extra?: string;
}

/** A manifest text: two roomy hosts, one app, and the tenants given (slots in order per host). */
function manifestText(
  tenants: Readonly<Record<string, TenantSpec>>,
  top = "",
  hostExtra: Readonly<Record<string, string>> = {},
): string {
  const slots = new Map<string, number>();
  const entries = Object.entries(tenants).map(([name, t]) => {
    const host = t.host ?? "vps1";
    const slot = (slots.get(host) ?? 0) + 1;
    slots.set(host, slot);
    const aliases = t.aliases ? `\n    aliases: [${t.aliases.join(", ")}]` : "";
    return `  ${name}:\n    app: site\n    plan: tiny\n    host: ${host}\n    slot: ${slot}\n    domain: ${t.domain}${aliases}${t.extra ? `\n    ${t.extra}` : ""}`;
  });
  const host = (name: string, octet: number) =>
    `  ${name}:\n    address: 203.0.113.${octet}\n    user: deploy\n    hostKey: ${KEY}\n    memoryMb: 200000${hostExtra[name] ? `\n    ${hostExtra[name]}` : ""}`;
  return [
    "hosts:",
    host("vps1", 10),
    host("vps2", 11),
    "dns:",
    "  zones:",
    "    example.com: 0123456789abcdef0123456789abcdef",
    top,
    "apps:",
    "  site:",
    "    services:",
    "      web: { image: 'ghcr.io/example/site:1.0.0', port: 8000, route: / }",
    "plans:",
    "  tiny: { memoryMb: 16, cpus: 0.1 }",
    entries.length === 0 ? "tenants: {}" : "tenants:",
    ...entries,
    "",
  ].join("\n");
}

function parse(text: string): Manifest {
  const result = parseManifest(text, "tenants.yaml");
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.loaded.manifest;
}

function problems(text: string): string[] {
  const result = parseManifest(text, "tenants.yaml");
  return result.ok ? [] : result.problems.map((p) => `${p.path.join(".")}: ${p.message}`);
}

/** `n` tenants named `t1..tn` at `t<i>.<domain>`, spread over hosts. */
function many(
  n: number,
  domain: (i: number) => string,
  hosts = ["vps1"],
): Record<string, TenantSpec> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, k) => [
      `t${k + 1}`,
      { domain: domain(k + 1), host: hosts[k % hosts.length]! },
    ]),
  );
}

describe("public suffixes and wildcards", () => {
  it.each([
    ["acme.example.com", "example.com"],
    ["acme.example.co.uk", "example.co.uk"],
    ["shop.acme.github.io", "acme.github.io"],
    ["*.example.com", "example.com"],
    ["a.b.c.example.org", "example.org"],
  ])("counts %s under the registered domain %s", (name, domain) => {
    expect(registeredDomain(name)).toBe(domain);
  });

  const zones = { "example.com": "z", "shop.example.net": "y" };
  it.each([
    ["acme.example.com", "example.com"],
    ["example.com", undefined],
    ["a.b.example.com", undefined],
    ["acme.shop.example.net", "shop.example.net"],
    ["acme.example.org", undefined],
  ])("covers %s with the wildcard of zone %s", (domain, zone) => {
    expect(wildcardZoneOf(domain, zones)).toBe(zone);
  });
});

describe("modes", () => {
  it.each([
    ["the manifest default (acme)", {}, "", "", "acme", "manifest"],
    ["tls: certbot, the 0.1 name", { extra: "tls: certbot" }, "", "", "acme", "tenant"],
    ["tls.mode", {}, "tls:\n  mode: none", "", "none", "manifest"],
    ["the host default", {}, "", "tls: wildcard", "wildcard", "host"],
    ["the tenant over its host", { extra: "tls: none" }, "", "tls: wildcard", "none", "tenant"],
  ])("takes %s", (_what, spec: Partial<TenantSpec>, top, hostTls, mode, source) => {
    const hostExtra: Record<string, string> = hostTls === "" ? {} : { vps1: hostTls };
    const m = parse(
      manifestText({ acme: { domain: "acme.example.com", ...spec } }, top, hostExtra),
    );
    const plan = planTenant(m, "acme");
    expect([plan.tls.mode, plan.tls.source]).toEqual([mode, source]);
    expect(plan.url).toBe(`${mode === "none" ? "http" : "https"}://acme.example.com`);
    expect(plan.site.tls === undefined).toBe(mode === "none");
  });

  it("gives wildcard tenants of one host and zone one certificate, and acme tenants one each", () => {
    const m = parse(
      manifestText({
        a: { domain: "a.example.com", extra: "tls: wildcard" },
        b: { domain: "b.example.com", extra: "tls: wildcard" },
        c: { domain: "c.example.com", host: "vps2", extra: "tls: wildcard" },
        d: { domain: "shop.customer.org", aliases: ["www.shop.customer.org"] },
      }),
    );
    expect(
      manifestCertificates(m).map((c) => [
        c.kind,
        c.host,
        c.name,
        c.names.join(" "),
        c.tenants.join(" "),
      ]),
    ).toEqual([
      ["acme", "vps1", "tenantry-d", "shop.customer.org www.shop.customer.org", "d"],
      ["wildcard", "vps1", "tenantry-wildcard-example.com", "*.example.com", "a b"],
      ["wildcard", "vps2", "tenantry-wildcard-example.com", "*.example.com", "c"],
    ]);
    expect(planTenant(m, "b").tls.certificate?.certificate).toBe(
      "/etc/letsencrypt/live/tenantry-wildcard-example.com/fullchain.pem",
    );
  });
});

describe("rules", () => {
  it.each([
    [
      "a wildcard tenant outside every managed zone",
      { domain: "shop.customer.org", extra: "tls: wildcard" },
      "",
      "tenants.acme.tls: tls: wildcard serves a tenant with the host's *.<zone> certificate, but shop.customer.org is in no managed zone (dns.zones); use tls: acme for this tenant (its own certificate), or a name directly under a managed zone",
    ],
    [
      "a wildcard tenant two labels down, mode from tls.mode",
      { domain: "a.b.example.com" },
      "tls:\n  mode: wildcard",
      "tenants.acme.domain: tls: wildcard (from tls.mode) serves a tenant with the host's *.<zone> certificate, but a.b.example.com is more than one label below example.com, which *.example.com does not cover; use tls: acme for this tenant (its own certificate), or a name directly under a managed zone",
    ],
    [
      "hsts on an HTTP-only tenant",
      { domain: "acme.example.com", extra: "tls: none\n    hsts: true" },
      "",
      "tenants.acme.hsts: HSTS needs HTTPS, and this tenant is served over HTTP only (tls: none); remove hsts or give the tenant tls: acme",
    ],
    [
      "staging beside a directory",
      { domain: "acme.example.com" },
      "tls:\n  staging: true\n  directory: https://ca.example.net/dir",
      "tls.staging: staging picks Let's Encrypt's staging directory, but tls.directory names one already (https://ca.example.net/dir); keep one of them",
    ],
    [
      "an unknown mode",
      { domain: "acme.example.com", extra: "tls: https" },
      "",
      'tenants.acme.tls: must be "acme", "wildcard" or "none" ("certbot" is accepted and means "acme") (got "https")',
    ],
  ])("refuses %s", (_what, spec, top, expected) => {
    expect(problems(manifestText({ acme: spec }, top))).toEqual([expected]);
  });

  it("refuses a certificate of more than 100 names", () => {
    const aliases = Array.from({ length: 100 }, (_, i) => `a${i}.acme.example.org`);
    expect(problems(manifestText({ acme: { domain: "acme.example.org", aliases } }))).toEqual([
      "tenants.acme.aliases: gives the tenant 101 domains; a certificate holds at most 100 names, so keep at most 99 aliases",
    ]);
  });

  it("refuses HTTPS where nginx serves HTTP, and no HTTPS address for a host with HTTPS tenants", () => {
    const clash = manifestText({ acme: { domain: "acme.example.com" } }, "", {
      vps1: "nginx: { listen: ['80', '443'] }",
    });
    expect(problems(clash)).toEqual([
      "hosts.vps1.nginx.tlsListen.0: nginx.listen serves plain HTTP there already; one address cannot serve both HTTP and HTTPS: use 443 (or another port) for HTTPS",
    ]);
    const none = manifestText({ acme: { domain: "acme.example.com" } }, "", {
      vps1: "nginx: { tlsListen: [] }",
    });
    expect(problems(none)).toEqual([
      'hosts.vps1.nginx.tlsListen: is empty, but tenant "acme" on this host is served over HTTPS; list where nginx serves HTTPS, e.g. ["443", "[::]:443"], or give the host\'s tenants tls: none',
    ]);
  });
});

describe("Let's Encrypt limits", () => {
  const under = (domain: string) => (i: number) => `t${i}.${domain}`;
  it.each([
    ["10 new tenants under one domain", 10, 0, under("example.org"), [], []],
    [
      "40 new: near the 50 a week",
      40,
      0,
      under("example.org"),
      ["warning"],
      [
        "this change requests 40 new certificates under example.org (t1, t2, t3 and 37 more); Let's Encrypt issues at most 50 per registered domain per 7 days, including any issued earlier in that window: 10 left at most; onboard in batches across weeks",
      ],
    ],
    [
      "51 new under a managed zone: refused, wildcard suggested",
      51,
      0,
      under("example.com"),
      ["refusal"],
      [
        "this change requests 51 new certificates under example.com (t1, t2, t3 and 48 more); Let's Encrypt issues at most 50 per registered domain per 7 days, including any issued earlier in that window; 51 of them sit directly under managed zone example.com: set tls: wildcard (on the tenants, their host or tls.mode) and they share one certificate per host",
      ],
    ],
    [
      "51 under example.co.uk, counted by the public suffix list",
      51,
      0,
      under("example.co.uk"),
      ["refusal"],
      [
        "this change requests 51 new certificates under example.co.uk (t1, t2, t3 and 48 more); Let's Encrypt issues at most 50 per registered domain per 7 days, including any issued earlier in that window; onboard in batches across weeks",
      ],
    ],
    ["60 already applied, 5 more: only the 5 count", 65, 60, under("example.org"), [], []],
    [
      "30 on each of two github.io sites: two registered domains",
      60,
      0,
      (i: number) => `t${i}.${i % 2 ? "one" : "two"}.github.io`,
      [],
      [],
    ],
  ])("%s", (_what, total, applied, domain, levels, messages) => {
    const all = many(total, domain);
    const before = parse(manifestText(Object.fromEntries(Object.entries(all).slice(0, applied))));
    const after = parse(manifestText(all));
    const report = checkAcmeLimits(after, before);
    expect(report.requests).toHaveLength(total - applied);
    expect(report.findings.map((f) => f.level)).toEqual(levels);
    expect(report.findings.map((f) => f.message)).toEqual(messages);
  });

  it("only warns on a first apply (no previous manifest): earlier weeks' certificates do not count", () => {
    const report = checkAcmeLimits(parse(manifestText(many(60, under("example.org")))));
    expect(report.findings.map((f) => [f.level, f.path.join(".")])).toEqual([
      ["warning", "tenants.t1.domain"],
    ]);
    expect(report.findings[0]!.message).toMatch(/^a first apply of this manifest requests 60 new/);
  });

  it("requests one certificate per host for wildcard tenants, however many", () => {
    const after = parse(
      manifestText(many(80, under("example.com"), ["vps1", "vps2"]), "tls:\n  mode: wildcard"),
    );
    const report = checkAcmeLimits(after, parse(manifestText({})));
    expect(report.requests.map((r) => `${r.certificate.host} ${r.certificate.names[0]}`)).toEqual([
      "vps1 *.example.com",
      "vps2 *.example.com",
    ]);
    expect(report.findings).toEqual([]);
  });

  it("counts new orders per account (one per host) against 300 per 3 hours", () => {
    const all = many(301, (i) => `shop.customer${i}.org`);
    const report = checkAcmeLimits(parse(manifestText(all)), parse(manifestText({})));
    expect(report.perAccount).toEqual([["vps1", 301]]);
    expect(report.findings.map((f) => [f.level, f.path.join("."), f.message])).toEqual([
      [
        "refusal",
        "hosts.vps1",
        "this change places 301 new orders from host vps1's ACME account; Let's Encrypt accepts at most 300 per account per 3 hours: apply in smaller steps (each host has its own account)",
      ],
    ]);
  });

  it.each([
    ["nothing changed", {}, {}, []],
    ["an alias added", {}, { aliases: ["www.acme.example.org"] }, ["names changed"]],
    ["a move to another host", {}, { host: "vps2" }, ["new on this host"]],
    ["a switch to tls: none", {}, { extra: "tls: none" }, []],
    ["a switch from none to acme", { extra: "tls: none" }, {}, ["new"]],
  ])("requests for %s", (_what, was: Partial<TenantSpec>, now: Partial<TenantSpec>, reasons) => {
    const before = parse(manifestText({ acme: { domain: "acme.example.org", ...was } }));
    const after = parse(manifestText({ acme: { domain: "acme.example.org", ...now } }));
    expect(certificateRequests(after, before).map((r) => r.reason)).toEqual(reasons);
  });

  it("gives each ACME server its own lineage, so leaving staging requests a trusted certificate", () => {
    const text = (top: string) => manifestText({ acme: { domain: "acme.example.org" } }, top);
    const staging = parse(text("tls:\n  staging: true"));
    const production = parse(text(""));
    const other = parse(text("tls:\n  directory: https://ca.example.net/dir"));
    expect(manifestCertificates(staging).map((c) => c.name)).toEqual(["tenantry-acme-staging"]);
    expect(manifestCertificates(production).map((c) => c.name)).toEqual(["tenantry-acme"]);
    expect(manifestCertificates(other).map((c) => c.name)).toEqual([
      `tenantry-acme${directorySuffix("https://ca.example.net/dir")}`,
    ]);
    expect(directorySuffix("https://ca.example.net/dir")).toMatch(/^-[0-9a-f]{8}$/);
    expect(certificateRequests(production, staging).map((r) => r.reason)).toEqual(["new lineage"]);
  });

  it("checks only Let's Encrypt's production directory, and says so", () => {
    for (const [top, text] of [
      [
        "tls:\n  staging: true",
        "Let's Encrypt staging (https://acme-staging-v02.api.letsencrypt.org/directory; its limits are far higher and not checked; its certificates are not trusted by browsers)",
      ],
      [
        "tls:\n  directory: https://ca.example.net/dir",
        "https://ca.example.net/dir (its limits are unknown to tenantry and not checked)",
      ],
      ["", "Let's Encrypt (https://acme-v02.api.letsencrypt.org/directory)"],
    ] as const) {
      const report = checkAcmeLimits(parse(manifestText(many(60, under("example.org")), top)));
      expect(describeDirectory(report)).toBe(text);
      expect(report.findings.length > 0).toBe(top === "");
    }
  });
});
