// Rules about TLS across entries: a wildcard tenant must sit directly under a managed zone, HSTS
// needs HTTPS, a certificate holds at most 100 names, a host serving HTTPS needs an address to
// serve it on. Pure: manifest in, problems out (checkRules in rules.ts calls it).
import { canonicalAddress } from "../core/address";
import { zoneFor } from "../core/dns";
import {
  effectiveMode,
  MAX_NAMES_PER_CERTIFICATE,
  wildcardZoneOf,
  type ModeSource,
} from "../core/tls";
import type { PathSegment, Problem } from "./problems";
import { parseListen, type Manifest } from "./schema";

/** Where a tenant's mode came from, as a reader finds it in the file. */
function fromWhere(source: ModeSource, host: string): string {
  return source === "tenant"
    ? ""
    : ` (from ${source === "host" ? `hosts.${host}.tls` : "tls.mode"})`;
}

export function checkTlsRules(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  if (m.tls.staging && m.tls.directory !== undefined) {
    problems.push({
      path: ["tls", "staging"],
      message: `staging picks Let's Encrypt's staging directory, but tls.directory names one already (${m.tls.directory}); keep one of them`,
    });
  }
  const hostsWithTls = new Map<string, string>(); // host → first tenant served over HTTPS
  for (const [name, tenant] of Object.entries(m.tenants)) {
    const { mode, source } = effectiveMode(tenant, m.hosts[tenant.host], m.tls);
    const at: PathSegment[] = ["tenants", name];
    const names = [tenant.domain, ...tenant.aliases];
    if (mode === "none") {
      if (tenant.hsts) {
        problems.push({
          path: [...at, "hsts"],
          message: `HSTS needs HTTPS, and this tenant is served over HTTP only (tls: none${fromWhere(source, tenant.host)}); remove hsts or give the tenant tls: acme`,
        });
      }
      continue;
    }
    if (!hostsWithTls.has(tenant.host)) hostsWithTls.set(tenant.host, name);
    if (mode === "acme" && names.length > MAX_NAMES_PER_CERTIFICATE) {
      problems.push({
        path: [...at, "aliases"],
        message: `gives the tenant ${names.length} domains; a certificate holds at most ${MAX_NAMES_PER_CERTIFICATE} names, so keep at most ${MAX_NAMES_PER_CERTIFICATE - 1} aliases`,
      });
    }
    if (mode !== "wildcard") continue;
    const path = source === "tenant" ? [...at, "tls"] : [...at, "domain"];
    const zones = new Set(names.map((n) => wildcardZoneOf(n, m.dns.zones)));
    const outside = names.filter((n) => wildcardZoneOf(n, m.dns.zones) === undefined);
    if (outside.length > 0) {
      const why = outside.map((n) => {
        const zone = zoneFor(n, m.dns.zones);
        if (zone === undefined) return `${n} is in no managed zone (dns.zones)`;
        if (zone === n) return `${n} is the zone's apex, which *.${zone} does not cover`;
        return `${n} is more than one label below ${zone}, which *.${zone} does not cover`;
      });
      problems.push({
        path,
        message: `tls: wildcard${fromWhere(source, tenant.host)} serves a tenant with the host's *.<zone> certificate, but ${why.join("; ")}; use tls: acme for this tenant (its own certificate), or a name directly under a managed zone`,
      });
    } else if (zones.size > 1) {
      problems.push({
        path,
        message: `tls: wildcard${fromWhere(source, tenant.host)}: the tenant's domains sit under ${[...zones].join(" and ")}, and one site serves one certificate; use tls: acme for this tenant, or names under one zone`,
      });
    }
  }

  for (const [hostName, tenant] of hostsWithTls) {
    const host = m.hosts[hostName];
    if (host === undefined) continue; // the reference is reported elsewhere
    const at = ["hosts", hostName, "nginx", "tlsListen"];
    if (host.nginx.tlsListen.length === 0) {
      problems.push({
        path: at,
        message: `is empty, but tenant "${tenant}" on this host is served over HTTPS; list where nginx serves HTTPS, e.g. ["443", "[::]:443"], or give the host's tenants tls: none`,
      });
    }
  }
  for (const [hostName, host] of Object.entries(m.hosts)) {
    const plain = new Set(host.nginx.listen.map((l) => listenKey(l)));
    host.nginx.tlsListen.forEach((value, i) => {
      const parsed = parseListen(value);
      if (parsed === undefined) return; // the schema reports it
      const path = ["hosts", hostName, "nginx", "tlsListen", i];
      if (plain.has(listenKey(value))) {
        problems.push({
          path,
          message: `nginx.listen serves plain HTTP there already; one address cannot serve both HTTP and HTTPS: use 443 (or another port) for HTTPS`,
        });
      } else if (parsed.port === host.port) {
        problems.push({
          path,
          message: `port ${parsed.port} is the host's SSH port (hosts.${hostName}.port); nginx could not bind it: use 443`,
        });
      }
    });
  }
  return problems;
}

/** "address port" as nginx binds it: "443" is every IPv4 address. */
function listenKey(value: string): string | undefined {
  const parsed = parseListen(value);
  if (parsed === undefined) return undefined;
  const address =
    parsed.address === undefined || parsed.address === "0.0.0.0"
      ? "*"
      : canonicalAddress(parsed.address);
  return `${address} ${parsed.port}`;
}
