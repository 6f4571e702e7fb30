// Pure: host addresses as the manifest writes them (an IP or a name) and as URLs need them.
// Validation (which addresses are valid, which two are the same host) and the Docker
// connection URL both ask.
import { isIP } from "node:net";

/**
 * The address as the host part of a URL: an IPv6 address in brackets (`ssh://deploy@[2001:db8::1]:22`),
 * anything else as it is. Without brackets the port cannot be told from the address.
 */
export function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/**
 * One spelling per host, to tell when two entries name the same machine: IPv6 in its shortest
 * form (`2001:0db8::0001` is `2001:db8::1`), names in lower case (DNS ignores case).
 */
export function canonicalAddress(address: string): string {
  if (isIP(address) === 6) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  return address.toLowerCase();
}
