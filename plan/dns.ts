// Pure: a tenant's DNS records: managed ones tenantry creates in a Cloudflare zone, and the
// record a customer must create for a domain outside every managed zone.
import { isIP } from "node:net";
import { zoneFor } from "../core/dns";

export type DnsRecordType = "A" | "AAAA" | "CNAME";

export type DnsPlan =
  | {
      readonly domain: string;
      readonly managed: true;
      readonly zone: string;
      readonly zoneId: string;
      readonly type: DnsRecordType;
      readonly content: string;
    }
  | {
      readonly domain: string;
      readonly managed: false;
      readonly type: DnsRecordType;
      readonly content: string;
      /** What the customer must create at their DNS provider. */
      readonly instruction: string;
    };

export function recordType(target: string): DnsRecordType {
  const family = isIP(target);
  return family === 4 ? "A" : family === 6 ? "AAAA" : "CNAME";
}

export function planDns(
  domain: string,
  target: string,
  zones: Readonly<Record<string, string>>,
): DnsPlan {
  const type = recordType(target);
  const zone = zoneFor(domain, zones);
  if (zone !== undefined) {
    return { domain, managed: true, zone, zoneId: zones[zone]!, type, content: target };
  }
  return {
    domain,
    managed: false,
    type,
    content: target,
    instruction: `outside every managed zone: the customer creates ${type} ${domain} → ${target} at their DNS provider`,
  };
}

/** A tenant's DNS as the stack output shows it: no secret, and what the customer must do. */
export interface DnsSummary {
  readonly domain: string;
  readonly managed: boolean;
  readonly record: string;
  readonly zone?: string;
  readonly action?: string;
}

export function dnsSummary(dns: DnsPlan): DnsSummary {
  const record = `${dns.type} ${dns.domain} → ${dns.content}`;
  return dns.managed
    ? { domain: dns.domain, managed: true, record, zone: dns.zone }
    : { domain: dns.domain, managed: false, record, action: dns.instruction };
}
