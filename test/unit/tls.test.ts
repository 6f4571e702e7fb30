// TLS planning as pure functions on tables of manifests: which mode each tenant gets, what the
// rules refuse, and what a change would ask Let's Encrypt for, counted against its limits. And
// the TLS root operations: the command lines whole, their arguments refused in the program and
// on the host alike, and the deploy hook a constant script that reads its settings as data.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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
  hostWildcardCertificates,
  manifestCertificates,
  type CertificatePlan,
} from "../../plan/tls";
import { entryPointText } from "../../remote/entry";
import { ENTRY_POINT } from "../../remote/operation";
import { hostLayout, type HostLayout } from "../../remote/scripts";
import { hasHostValue, quote } from "../../remote/shell";
import {
  DEPLOY_HOOK_SETTINGS,
  deployHookScript,
  tenantTlsCommand,
  tenantTlsRemoveCommand,
  wildcardCertificateCommand,
  wildcardRemoveCommand,
  type TenantTlsTarget,
} from "../../remote/tls";
import { describeWith } from "../support/prereq";
import { shellcheck } from "../support/shellcheck";

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

/** The layout of the example manifest: Debian's defaults. */
const EXAMPLE = hostLayout({
  dir: "/etc/nginx/tenantry",
  include: "/etc/nginx/conf.d/tenantry.conf",
  listen: ["80", "[::]:80"],
});
/** Another nginx, with its own main config: CONFIG is then an argument too. */
const OWN_CONFIG = hostLayout({
  dir: "/etc/nginx/tenantry",
  include: "/etc/nginx/tenantry.d/include.conf",
  config: "/etc/nginx/tenantry.d/nginx.conf",
  listen: ["80"],
});

/** Certificates with values the schema allows and the shell must quote (an email with "+"). */
const ACME_CERT: CertificatePlan = {
  kind: "acme",
  name: "tenantry-acme-2-0a1b2c3d",
  host: "vps-1",
  names: ["acme-2.example.com", "shop.acme-2.co.uk"],
  account: { directory: "https://acme.example.net:14000/dir", email: "ops+tls@example.com" },
  certificate: "/etc/letsencrypt/live/tenantry-acme-2-0a1b2c3d/fullchain.pem",
  key: "/etc/letsencrypt/live/tenantry-acme-2-0a1b2c3d/privkey.pem",
  tenants: ["acme-2"],
};
const WILDCARD_CERT: CertificatePlan = {
  ...ACME_CERT,
  kind: "wildcard",
  name: "tenantry-wildcard-example.com",
  names: ["*.example.com"],
  zone: "example.com",
  account: { directory: "https://acme-v02.api.letsencrypt.org/directory" },
  certificate: "/etc/letsencrypt/live/tenantry-wildcard-example.com/fullchain.pem",
  key: "/etc/letsencrypt/live/tenantry-wildcard-example.com/privkey.pem",
};
const target = (layout: HostLayout, certificate: CertificatePlan): TenantTlsTarget => ({
  tenant: "acme-2",
  marker: "acme-2@vps-1",
  certificate,
  webroot: certificate.kind === "acme" ? `${layout.dir}/acme-challenge` : undefined,
  snippets: `${layout.dir}/tls/acme-2`,
});

/** The words a command line hands to the entry point, as /bin/sh parses them. */
function entryWords(commandLine: string): string[] {
  const at = commandLine.lastIndexOf(` ${ENTRY_POINT} `);
  expect(at).toBeGreaterThan(0);
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${commandLine.slice(at + 1)}`], {
    encoding: "utf8",
  });
  return out.split("\0").slice(0, -1);
}

const LAYOUT = ["/etc/nginx/tenantry", "/etc/nginx/conf.d/tenantry.conf", ""];
const COMMANDS = [
  [
    "a tenant's TLS step (acme)",
    (user: string, l: HostLayout) => tenantTlsCommand(user, l, target(l, ACME_CERT)),
    "tenant-tls-acme /etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf '' acme-2 acme-2@vps-1 tenantry-acme-2-0a1b2c3d https://acme.example.net:14000/dir ops+tls@example.com acme-2.example.com shop.acme-2.co.uk",
  ],
  [
    "a tenant's TLS step (wildcard)",
    (user: string, l: HostLayout) => tenantTlsCommand(user, l, target(l, WILDCARD_CERT)),
    "tenant-tls-wildcard /etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf '' acme-2 acme-2@vps-1 tenantry-wildcard-example.com example.com",
  ],
  [
    "a tenant's TLS removal (acme)",
    (user: string, l: HostLayout) => tenantTlsRemoveCommand(user, l, target(l, ACME_CERT)),
    "tenant-tls-remove-acme /etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf '' acme-2 acme-2@vps-1 tenantry-acme-2-0a1b2c3d",
  ],
  [
    "a tenant's TLS removal (wildcard)",
    (user: string, l: HostLayout) => tenantTlsRemoveCommand(user, l, target(l, WILDCARD_CERT)),
    "tenant-tls-remove /etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf '' acme-2 acme-2@vps-1",
  ],
  [
    "the host's wildcard step",
    (user: string, l: HostLayout) => wildcardCertificateCommand(user, l, WILDCARD_CERT),
    "wildcard-certificate /etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf '' tenantry-wildcard-example.com example.com https://acme-v02.api.letsencrypt.org/directory ''",
  ],
  [
    "the host's wildcard removal",
    (user: string, l: HostLayout) => wildcardRemoveCommand(user, l, WILDCARD_CERT),
    "wildcard-remove /etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf '' tenantry-wildcard-example.com example.com",
  ],
] as const;

describe("the TLS root operations", () => {
  it.each(COMMANDS)("runs %s as one entry point command line", (_what, build, line) => {
    // The whole contract with the host: the operation and its arguments, nothing else.
    expect(build("deploy", EXAMPLE).endsWith(` ${ENTRY_POINT} ${line}`)).toBe(true);
    const root = execFileSync(
      "/bin/sh",
      ["-c", `printf '%s' ${build("root", EXAMPLE).slice("/bin/sh -c ".length)}`],
      { encoding: "utf8" },
    );
    expect(root.endsWith(`\nexec ${ENTRY_POINT} ${line}`)).toBe(true);
    const words = entryWords(build("deploy", EXAMPLE));
    expect(words.slice(0, 5)).toEqual([ENTRY_POINT, line.split(" ")[0], ...LAYOUT]);
  });

  it("hands nginx's own main config over as CONFIG, and an acme account without email as ''", () => {
    const noEmail = { ...ACME_CERT, account: { directory: ACME_CERT.account.directory } };
    expect(entryWords(tenantTlsCommand("deploy", OWN_CONFIG, target(OWN_CONFIG, noEmail)))).toEqual(
      [
        ENTRY_POINT,
        "tenant-tls-acme",
        "/etc/nginx/tenantry",
        "/etc/nginx/tenantry.d/include.conf",
        "/etc/nginx/tenantry.d/nginx.conf",
        "acme-2",
        "acme-2@vps-1",
        ACME_CERT.name,
        ACME_CERT.account.directory,
        "",
        ...ACME_CERT.names,
      ],
    );
  });

  it("builds a command for every certificate a manifest plans: acme, wildcard, staging, another CA, a renamed tenant", () => {
    const m = parse(
      manifestText(
        {
          acme: { domain: "shop.acme-customer.org", aliases: ["www.acme-customer.org"] },
          globex: { domain: "globex.example.com", extra: "tls: wildcard" },
          renamed: { domain: "renamed.example.org", extra: "previousName: old-name" },
          hooli: { domain: "hooli.example.net", host: "vps2", extra: "tls: none" },
        },
        "tls:\n  email: ops+tls@example.com\n  directory: https://ca.example.net:14000/dir",
      ),
    );
    const lines: string[] = [];
    for (const name of Object.keys(m.tenants)) {
      const plan = planTenant(m, name);
      const cert = plan.tls.certificate;
      if (cert === undefined || plan.site.tls === undefined) continue;
      const layout = hostLayout(m.hosts[plan.host]!.nginx);
      const t: TenantTlsTarget = {
        tenant: plan.lifecycle.identity,
        marker: plan.site.marker,
        certificate: cert,
        webroot: plan.site.tls.webroot,
        snippets: plan.site.tls.snippets,
      };
      lines.push(
        entryWords(tenantTlsCommand("deploy", layout, t))
          .slice(1)
          .join(" "),
      );
      expect(() => tenantTlsRemoveCommand("deploy", layout, t)).not.toThrow();
    }
    for (const cert of hostWildcardCertificates(m, "vps1")) {
      const layout = hostLayout(m.hosts.vps1!.nginx);
      lines.push(
        entryWords(wildcardCertificateCommand("deploy", layout, cert))
          .slice(1)
          .join(" "),
      );
      expect(() => wildcardRemoveCommand("deploy", layout, cert)).not.toThrow();
    }
    const suffix = directorySuffix("https://ca.example.net:14000/dir");
    const layout = "/etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf ";
    expect(lines).toEqual([
      `tenant-tls-acme ${layout} acme acme@vps1 tenantry-acme${suffix} https://ca.example.net:14000/dir ops+tls@example.com shop.acme-customer.org www.acme-customer.org`,
      `tenant-tls-wildcard ${layout} globex globex@vps1 tenantry-wildcard-example.com${suffix} example.com`,
      `tenant-tls-acme ${layout} old-name old-name@vps1 tenantry-old-name${suffix} https://ca.example.net:14000/dir ops+tls@example.com renamed.example.org`,
      `wildcard-certificate ${layout} tenantry-wildcard-example.com${suffix} example.com https://ca.example.net:14000/dir ops+tls@example.com`,
    ]);
  });

  it.each([
    [
      "a tenant name that is shell",
      () =>
        tenantTlsCommand("deploy", EXAMPLE, {
          ...target(EXAMPLE, ACME_CERT),
          tenant: "$(id)",
          snippets: "/etc/nginx/tenantry/tls/$(id)",
        }),
      'tenantry-root tenant-tls-acme: tenant "$(id)" is not a tenant name',
    ],
    [
      "a wildcard among an acme certificate's names",
      () =>
        tenantTlsCommand(
          "deploy",
          EXAMPLE,
          target(EXAMPLE, { ...ACME_CERT, names: ["*.example.com"] }),
        ),
      'tenantry-root tenant-tls-acme: name "*.example.com" is not a domain name',
    ],
    [
      "a lineage outside tenantry's",
      () =>
        tenantTlsRemoveCommand(
          "deploy",
          EXAMPLE,
          target(EXAMPLE, {
            ...ACME_CERT,
            name: "../x",
            certificate: "/etc/letsencrypt/live/../x/fullchain.pem",
            key: "/etc/letsencrypt/live/../x/privkey.pem",
          }),
        ),
      'tenantry-root tenant-tls-remove-acme: cert "../x" is not a tenant\'s certificate lineage',
    ],
    [
      "an ACME directory that is not https",
      () =>
        wildcardCertificateCommand("deploy", EXAMPLE, {
          ...WILDCARD_CERT,
          account: { directory: "http://ca.example.net/dir" },
        }),
      'tenantry-root wildcard-certificate: directory "http://ca.example.net/dir" is not an https URL',
    ],
    [
      "a zone that is a path",
      () =>
        wildcardRemoveCommand("deploy", EXAMPLE, {
          ...WILDCARD_CERT,
          zone: "example.com/../../x",
          names: ["*.example.com/../../x"],
        }),
      'tenantry-root wildcard-remove: zone "example.com/../../x" is not a managed zone',
    ],
    [
      "snippets elsewhere than the operation derives them",
      () =>
        tenantTlsCommand("deploy", EXAMPLE, {
          ...target(EXAMPLE, ACME_CERT),
          snippets: "/etc/nginx/snippets",
        }),
      "tenant acme-2: its TLS snippets are planned in /etc/nginx/snippets, but the TLS operations use /etc/nginx/tenantry/tls/acme-2",
    ],
    [
      "a certificate file elsewhere than its lineage",
      () =>
        tenantTlsCommand(
          "deploy",
          EXAMPLE,
          target(EXAMPLE, { ...WILDCARD_CERT, certificate: "/etc/ssl/x.pem" }),
        ),
      'certificate tenantry-wildcard-example.com: its certificate is "/etc/ssl/x.pem", but the TLS operations use "/etc/letsencrypt/live/tenantry-wildcard-example.com/fullchain.pem"',
    ],
  ])("refuses %s before any command is built", (_what, build, message) => {
    expect(build).toThrow(message);
  });

  describeWith("on the host", ["shellcheck"], () => {
    const dir = mkdtempSync(join(tmpdir(), "tenantry-tls-unit-"));
    const entry = join(dir, "tenantry-root");
    writeFileSync(entry, entryPointText());
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    /** An nginx dir the pattern allows, which a body that ran would create (prelude). */
    const nginxDir = `/etc/nginx/tenantry-unit-${process.pid}`;
    const args = [nginxDir, "/etc/nginx/conf.d/tenantry.conf", ""];

    it.each([
      [
        [
          "tenant-tls-acme",
          ...args,
          "$(id)",
          "acme@vps1",
          "tenantry-acme",
          "https://ca.example.net/dir",
          "",
          "acme.example.com",
        ],
        "tenant '$(id)' is not a tenant name",
      ],
      [
        [
          "tenant-tls-acme",
          ...args,
          "acme",
          "acme@vps1",
          "tenantry-acme",
          "https://ca.example.net/dir",
          "",
          "acme.example.com",
          "-d",
        ],
        "name '-d' is not a domain name",
      ],
      [
        [
          "tenant-tls-acme",
          ...args,
          "acme",
          "acme@vps1",
          "tenantry-acme",
          "https://ca.example.net/dir",
          "a b@x.org",
          "acme.example.com",
        ],
        "email 'a b@x.org' is not an email address",
      ],
      [
        [
          "tenant-tls-acme",
          ...args,
          "acme",
          "acme@vps1",
          "tenantry-acme",
          "https://ca.example.net/dir",
          "",
        ],
        "tenant-tls-acme: a certificate needs at least one NAME",
      ],
      [
        ["tenant-tls-wildcard", ...args, "acme", "acme@vps1", "tenantry-wildcard-x", "example.com"],
        "cert 'tenantry-wildcard-x' is not a host's wildcard certificate lineage",
      ],
      [
        [
          "tenant-tls-remove",
          "/etc/nginx/sites-enabled",
          "/etc/nginx/conf.d/tenantry.conf",
          "",
          "acme",
          "acme@vps1",
        ],
        "dir '/etc/nginx/sites-enabled' is not tenantry's own directory",
      ],
      [
        ["tenant-tls-remove-acme", ...args, "acme", "acme@vps1", "letsencrypt"],
        "cert 'letsencrypt' is not a tenant's certificate lineage",
      ],
      [
        [
          "wildcard-certificate",
          ...args,
          "tenantry-wildcard-example.com",
          "example.com",
          "https://ca.example.net/dir?x=$(id)",
          "",
        ],
        "directory 'https://ca.example.net/dir?x=$(id)' is not an https URL",
      ],
      [
        ["wildcard-remove", ...args, "tenantry-wildcard-example.com", "../../etc/passwd"],
        "zone '../../etc/passwd' is not a managed zone",
      ],
    ])("refuses %j: exit 2, tenantry-root's message, nothing changed", (argv, message) => {
      const run = spawnSync("/bin/sh", [entry, ...argv], { input: "x", encoding: "utf8" });
      expect(run.status, run.stderr).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`tenantry-root: `);
      expect(run.stderr).toContain(message);
      expect(existsSync(nginxDir)).toBe(false);
      expect(existsSync(`${argv[1]}/lock`)).toBe(false);
    });

    it("passes shellcheck as command lines, as root and through sudo", () => {
      for (const [, build] of COMMANDS) {
        expect(shellcheck(build("root", EXAMPLE))).toBe("");
        expect(shellcheck(build("deploy", OWN_CONFIG))).toBe("");
      }
    });
  });
});

describe("the certbot deploy hook", () => {
  const hook = deployHookScript().text;

  it("is constant text, which the entry point installs as it is", () => {
    expect(hasHostValue(hook)).toBe(false);
    expect(entryPointText()).toContain(`printf '%s' ${quote(hook)} >"$work/hook"`);
    expect(hook).toContain(`\nsettings=${DEPLOY_HOOK_SETTINGS}\n`);
  });

  describeWith("its text", ["shellcheck"], () => {
    it("passes shellcheck -s sh", () => {
      expect(shellcheck(hook)).toBe("");
    });
  });

  it.each([
    ["Debian's nginx", "", ["-t", "-s reload"]],
    [
      "nginx with its own config",
      "/etc/nginx/own.conf",
      ["-c /etc/nginx/own.conf -t", "-c /etc/nginx/own.conf -s reload"],
    ],
    [
      "a setting that is shell, read as data",
      "$(touch pwned)",
      ["-c $(touch pwned) -t", "-c $(touch pwned) -s reload"],
    ],
  ])("reloads %s under the lock in the nginx dir its settings name", (_what, config, calls) => {
    const dir = mkdtempSync(join(tmpdir(), "tenantry-hook-"));
    try {
      // The hook with its settings file moved here, and an nginx that records its arguments.
      const settings = join(dir, "deploy-hook.conf");
      writeFileSync(settings, `dir=${dir}/nginx\nconfig=${config}\n`);
      const nginx = join(dir, "bin", "nginx");
      execFileSync("mkdir", ["-p", join(dir, "bin"), join(dir, "nginx")]);
      writeFileSync(nginx, `#!/bin/sh\nprintf '%s\\n' "$*" >>${quote(join(dir, "calls"))}\n`);
      chmodSync(nginx, 0o755);
      const text = hook.replace(`settings=${DEPLOY_HOOK_SETTINGS}`, `settings=${quote(settings)}`);
      const run = spawnSync("/bin/sh", ["-c", text], {
        cwd: dir,
        encoding: "utf8",
        env: {
          PATH: `${join(dir, "bin")}:/usr/bin:/bin`,
          RENEWED_LINEAGE: "/etc/letsencrypt/live/x",
        },
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe("tenantry: nginx reloaded for /etc/letsencrypt/live/x\n");
      expect(readFileSync(join(dir, "calls"), "utf8").split("\n").slice(0, -1)).toEqual(calls);
      expect(existsSync(join(dir, "nginx", "lock"))).toBe(true);
      expect(existsSync(join(dir, "pwned"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reloads nothing without its settings, and says so", () => {
    const text = hook.replace(
      `settings=${DEPLOY_HOOK_SETTINGS}`,
      "settings=/nonexistent/deploy-hook.conf",
    );
    const run = spawnSync("/bin/sh", ["-c", text], { encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      "tenantry: /nonexistent/deploy-hook.conf is missing; nginx not reloaded\n",
    );
  });
});
