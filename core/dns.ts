// Pure: which managed zone a domain falls in. Validation (is a Cloudflare token needed?) and
// planning (which records tenantry creates) both ask.

/** The zone a domain falls in (longest match), if any. */
export function zoneFor(
  domain: string,
  zones: Readonly<Record<string, string>>,
): string | undefined {
  return Object.keys(zones)
    .filter((zone) => domain === zone || domain.endsWith(`.${zone}`))
    .sort((a, b) => b.length - a.length)[0];
}
