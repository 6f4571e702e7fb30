// The remote commands of a test host, built exactly as components/host.ts and
// components/tenantInstance.ts build them (same builders, same connection), so the tests run the
// text the program would hand to the provider.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { siteFileName, siteMarker } from "../../core/names";
import { renderHostInclude, renderSite } from "../../remote/nginx";
import { entryPointVersion } from "../../remote/entry";
import {
  hostBootstrapCommand,
  hostReloadCommand,
  siteInstallCommand,
  siteRemoveCommand,
  sitesDir,
} from "../../remote/scripts";
import { DEPLOY, type TestHost } from "./host";
import type { RemoteCommandArgs } from "./runner";

export function bootstrapCommand(host: TestHost, user = DEPLOY): RemoteCommandArgs {
  return {
    connection: host.connection(user),
    create: hostBootstrapCommand(host.layout, host.name, user, entryPointVersion()),
    stdin: renderHostInclude({ sitesDir: sitesDir(host.layout), listen: host.layout.listen }),
  };
}

export function reloadCommand(host: TestHost, user = DEPLOY): RemoteCommandArgs {
  return {
    connection: host.connection(user),
    create: hostReloadCommand(user, host.layout),
  };
}

export interface TestSite {
  readonly tenant: string;
  /** The host named in the marker (the resource's trigger): the replacement test changes it. */
  readonly hostName: string;
  readonly marker: string;
  /** The site file as renderSite writes it (the command's stdin). */
  readonly config: string;
}

/** A tenant's site: `<tenant>.example.com` proxied to `port` on 127.0.0.1. */
export function testSite(
  host: TestHost,
  tenant: string,
  port: number,
  options: { hostName?: string; domains?: readonly string[] } = {},
): TestSite {
  const hostName = options.hostName ?? host.name;
  const marker = siteMarker(tenant, hostName);
  const config = renderSite({
    tenant,
    marker,
    domains: options.domains ?? [`${tenant}.example.com`],
    listen: host.layout.listen,
    maxBodySize: "10m",
    routes: [{ service: "web", path: "/", port }],
  });
  return { tenant, hostName, marker, config };
}

/** The site command of a tenant; `stdin` may be overridden to ship a config nginx rejects. */
export function siteCommand(
  host: TestHost,
  site: TestSite,
  options: { user?: string; stdin?: string } = {},
): RemoteCommandArgs {
  const user = options.user ?? DEPLOY;
  return {
    connection: host.connection(user),
    create: siteInstallCommand(user, host.layout, site.tenant),
    delete: siteRemoveCommand(user, host.layout, site.tenant, site.marker),
    stdin: options.stdin ?? site.config,
  };
}

/** Path of a tenant's live site file on the test host, as the host sees it. */
export function sitePath(host: TestHost, tenant: string): string {
  return join(sitesDir(host.layout), siteFileName(tenant));
}

/** Where that file lives in the test dir, to read or plant it from the test. */
export function siteFile(host: TestHost, tenant: string): string {
  return host.file(sitePath(host, tenant));
}

/** The live site file, or undefined when there is none. */
export function readSite(host: TestHost, tenant: string): string | undefined {
  try {
    return readFileSync(siteFile(host, tenant), "utf8");
  } catch {
    return undefined;
  }
}
