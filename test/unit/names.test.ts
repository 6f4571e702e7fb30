// Object and resource names: two tenants never get one Pulumi URN or one Docker object, by
// construction where the scheme allows it and by a validation error where it cannot.
import { describe, expect, it } from "vitest";
import { canonicalAddress, urlHost } from "../../core/address";
import {
  configSecretKey,
  containerName,
  dnsResourceName,
  legacyDnsResourceName,
  networkName,
  secretResourceName,
  siteFileName,
  siteResourceName,
  volumeName,
} from "../../core/names";

describe("dnsResourceName", () => {
  // The pair: one name under the old scheme, `a-dns-b-dns-c.example.com`.
  const a = { tenant: "a", domain: "b-dns-c.example.com" };
  const b = { tenant: "a-dns-b", domain: "c.example.com" };

  it("gives the issue's two alias records different names", () => {
    expect(legacyDnsResourceName(a.tenant, a.domain, false)).toBeUndefined();
    expect(dnsResourceName(a.tenant, a.domain)).toBe("a-dns/b-dns-c.example.com");
    expect(dnsResourceName(b.tenant, b.domain)).toBe("a-dns-b-dns/c.example.com");
  });

  it.each([
    // [tenant, domain, main] pairs that a naive "-" join would merge
    [
      ["a", "b-dns-c.example.com", false],
      ["a-dns-b", "c.example.com", false],
    ],
    [
      ["a", "dns.example.com", false],
      ["a-dns", "example.com", true],
    ],
    [
      ["x-dns", "a.example.com", true],
      ["x", "dns-a.example.com", false],
    ],
  ] as const)("never repeats a name: %j vs %j", (first, second) => {
    const name = ([tenant, domain]: readonly [string, string, boolean]) =>
      dnsResourceName(tenant, domain);
    expect(name(first)).not.toBe(name(second));
  });

  it("names the main record by its domain too, and offers its old name as the alias", () => {
    expect(dnsResourceName("acme", "acme.example.com")).toBe("acme-dns/acme.example.com");
    expect(legacyDnsResourceName("acme", "acme.example.com", true)).toBe("acme-dns");
  });

  it("offers an alias record's old name as its Pulumi alias where only one record could have had it", () => {
    expect(legacyDnsResourceName("acme", "www.acme.io", false)).toBe("acme-dns-www.acme.io");
    // "-dns-" twice: the old name could be another tenant's record; no alias is claimed
    expect(legacyDnsResourceName("a-dns-b", "c.example.com", false)).toBeUndefined();
    expect(legacyDnsResourceName("a", "dns-dns-c.example.com", false)).toBeUndefined(); // also "a-dns" + "dns-c.example.com"
  });
});

describe.each([
  ["network", (t: string) => [networkName(t)]],
  ["site resource", (t: string) => [siteResourceName(t)]],
  ["site file", (t: string) => [siteFileName(t)]],
  ["secret", (t: string) => [secretResourceName(t, "DB_PASSWORD"), secretResourceName(t, "A")]],
  ["stack config key", (t: string) => [configSecretKey(t, "KEY")]],
])("%s names", (_kind, names) => {
  // Tenant names that share prefixes and suffixes with the name parts.
  const tenants = ["a", "a-net", "a-site", "a-secret", "a-secret-db", "net", "site", "a-b", "b"];
  it("differ for every two tenants", () => {
    const all = tenants.flatMap((t) => names(t).map((n) => `${t}: ${n}`));
    const byName = new Map<string, string>();
    for (const entry of all) {
      const name = entry.slice(entry.indexOf(": ") + 2);
      const owner = entry.slice(0, entry.indexOf(": "));
      const other = byName.get(name);
      if (other !== undefined) expect(`${other} and ${owner} share ${name}`).toBe("");
      byName.set(name, owner);
    }
  });
});

describe("container and volume names", () => {
  it("can collide across tenants, which validation reports (bad fixture 62)", () => {
    expect(containerName("acme", "b-web")).toBe(containerName("acme-b", "web"));
    expect(volumeName("acme", "web", "b-data")).toBe(volumeName("acme", "web-b", "data"));
  });
});

describe("host addresses", () => {
  it.each([
    ["203.0.113.10", "203.0.113.10"],
    ["2001:db8::10", "[2001:db8::10]"],
    ["vps1.example.com", "vps1.example.com"],
  ])("%s in a URL is %s", (address, host) => {
    expect(urlHost(address)).toBe(host);
    expect(new URL(`ssh://deploy@${urlHost(address)}:22`).port).toBe("22");
  });

  it.each([
    ["2001:0db8:0:0::0010", "2001:db8::10"],
    ["VPS1.Example.com", "vps1.example.com"],
    ["203.0.113.10", "203.0.113.10"],
  ])("%s is the machine %s", (address, canonical) => {
    expect(canonicalAddress(address)).toBe(canonical);
  });
});
