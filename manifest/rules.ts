// Rules across entries, checked after the structure: references, duplicate domains, slot and
// port clashes, per-app consistency and host capacity. Pure: manifest in, problems out.
import { canonicalAddress } from "../core/address";
import { dnsResourceName, dockerObjectNames, imageSlug } from "../core/names";
import { normalizeRoute } from "../core/routes";
import {
  maxSlot,
  needsPortOffset,
  PORT_STRIDE,
  portOffsetOf,
  RESERVED_HOST_PORTS,
  reservedHostPorts,
  routedServices,
  tenantPorts,
} from "../core/ports";
import { checkImageRules, tenantImagePaths } from "./imageRules";
import { checkLifecycle } from "./lifecycleRules";
import { checkRollouts } from "./rolloutRules";
import { checkMoves } from "./moveRules";
import { didYouMean, listChoices, type Problem } from "./problems";
import { checkTlsRules } from "./tlsRules";
import {
  NGINX_ROOT,
  normalVolumePath,
  parseListen,
  type App,
  type Manifest,
  type Tenant,
} from "./schema";

/**
 * Names that exist in the file, even where their entries are invalid (avoids double reports);
 * undefined for a section that is missing or broken, whose own problem is reported instead.
 */
export interface KnownNames {
  readonly hosts: ReadonlySet<string> | undefined;
  readonly apps: ReadonlySet<string> | undefined;
  readonly plans: ReadonlySet<string> | undefined;
  /**
   * Every tenant as written, field by field: the fields that are valid on their own, also for
   * tenants whose entry is invalid elsewhere, so a bad domain hides neither an unknown plan nor
   * a slot clash. The rules across tenants read these.
   */
  readonly tenants: ReadonlyMap<string, Partial<Tenant>>;
}

/** Memory a service gets out of its tenant's plan: the plan split by weight, in whole MB. */
export function serviceMemoryMb(app: App, service: string, planMemoryMb: number): number {
  const total = Object.values(app.services).reduce((sum, s) => sum + s.weight, 0);
  return Math.floor((planMemoryMb * (app.services[service]?.weight ?? 0)) / total);
}

/**
 * The smallest CPU share a container gets. The Docker provider reads a share below 0.10 back
 * as another value (0.05 as "0.1", 0.04 as "0.0": core/dockerValues.ts), which would replace the
 * container on every apply, so smaller shares are raised to this.
 */
export const MIN_CPUS = 0.1;

/** CPUs a service gets out of its tenant's plan, split by weight, two decimals, at least 0.10. */
export function serviceCpus(app: App, service: string, planCpus: number): number {
  const total = Object.values(app.services).reduce((sum, s) => sum + s.weight, 0);
  const share = (planCpus * (app.services[service]?.weight ?? 0)) / total;
  return Math.max(MIN_CPUS, Math.floor(share * 100) / 100);
}

/** The smallest memory limit Docker accepts for a container. */
export const DOCKER_MIN_MEMORY_MB = 6;

export function checkRules(m: Manifest, known: KnownNames): Problem[] {
  return [
    ...checkHosts(m),
    ...checkApps(m),
    ...checkReferences(m, known),
    ...checkTenantEnv(m),
    ...checkDomains(m, known.tenants),
    ...checkZoneApex(m, known.tenants),
    ...checkObjectNames(m),
    ...checkImageNames(m),
    ...checkImageRules(m),
    ...checkMoves(m),
    ...checkSlotsAndPorts(m, known.tenants),
    ...checkCapacity(m),
    ...checkLifecycle(m),
    ...checkRollouts(m),
    ...checkTlsRules(m),
  ];
}

/** `path` is `dir` or inside it. */
function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Each host on its own: nginx settings that agree, and no machine under two names. */
function checkHosts(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  const machines = new Map<string, string>(); // canonical address:port → host
  for (const [hostName, host] of Object.entries(m.hosts)) {
    const at = ["hosts", hostName];
    const machine = `${canonicalAddress(host.address)} port ${host.port}`;
    const other = machines.get(machine);
    if (other !== undefined) {
      problems.push({
        path: [...at, "address"],
        message: `host "${other}" has this address and SSH port already (${host.address}, port ${host.port}): one machine under two entries would get two bootstraps and two slot plans that know nothing of each other; keep one entry for it`,
      });
    } else {
      machines.set(machine, hostName);
    }

    const { dir, include, config, listen } = host.nginx;
    if (within(include, dir)) {
      problems.push({
        path: [...at, "nginx", "include"],
        message: `is inside nginx.dir (${dir}), which tenantry fills with its own files; use a file nginx includes in its http block, such as ${NGINX_ROOT}/conf.d/tenantry.conf`,
      });
    }
    if (config !== undefined && within(config, dir)) {
      problems.push({
        path: [...at, "nginx", "config"],
        message: `is inside nginx.dir (${dir}), which tenantry fills with its own files; name nginx's main config, such as ${NGINX_ROOT}/nginx.conf`,
      });
    } else if (config !== undefined && config === include) {
      problems.push({
        path: [...at, "nginx", "include"],
        message: `is nginx's main config (nginx.config): the bootstrap would replace it with its include line; use a file the main config includes, such as ${NGINX_ROOT}/conf.d/tenantry.conf`,
      });
    }

    const seen = new Map<string, number>(); // "address port" → index
    listen.forEach((value, i) => {
      const parsed = parseListen(value);
      if (parsed === undefined) return; // the schema reports it
      // nginx reads "80" as "0.0.0.0:80" (IPv6 needs its own "[::]:80").
      const address =
        parsed.address === undefined || parsed.address === "0.0.0.0"
          ? "*"
          : canonicalAddress(parsed.address);
      const key = `${address} ${parsed.port}`;
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push({
          path: [...at, "nginx", "listen", i],
          message: `listens where nginx.listen[${first}] ("${listen[first]}") already does; nginx refuses a duplicate listen, so list each address once`,
        });
        return;
      }
      seen.set(key, i);
      if (parsed.port === host.port) {
        problems.push({
          path: [...at, "nginx", "listen", i],
          message: `port ${parsed.port} is the host's SSH port (hosts.${hostName}.port); nginx could not bind it: use 80, or the port nginx serves on`,
        });
      }
    });
  }
  return problems;
}

/** Secret names a service declares: env name → secret name. */
export function serviceSecrets(secrets: readonly string[]): Array<{ env: string; secret: string }> {
  return secrets.map((entry) => {
    const [env, secret] = entry.split("=") as [string, string | undefined];
    return { env, secret: secret ?? env };
  });
}

function checkApps(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [appName, app] of Object.entries(m.apps)) {
    const base = ["apps", appName, "services"];
    const names = Object.keys(app.services);
    if (names.length > PORT_STRIDE) {
      problems.push({
        path: base,
        message: `has ${names.length} services; an app may have at most ${PORT_STRIDE} (each slot reserves ${PORT_STRIDE} host ports)`,
      });
    }
    if (names.length > 0 && routedServices(app).length === 0) {
      problems.push({
        path: base,
        message:
          'no service has a route, so nginx would serve nothing (add route: "/" to the web service)',
      });
    }
    const routes = new Map<string, string>();
    const volumeOwners = new Map<string, string>(); // `${service}-${volume}` → "service/volume"
    const offsets = new Map<number, string>(); // portOffset → service
    for (const [svcName, svc] of Object.entries(app.services)) {
      const at = [...base, svcName];
      if (svc.portOffset !== undefined) {
        const other = offsets.get(svc.portOffset);
        if (other !== undefined) {
          problems.push({
            path: [...at, "portOffset"],
            message: `portOffset ${svc.portOffset} is service "${other}"'s already; each service of the app needs its own (0 to ${PORT_STRIDE - 1})`,
          });
        } else {
          offsets.set(svc.portOffset, svcName);
        }
      } else if (needsPortOffset(app, svcName)) {
        const position = portOffsetOf(app, svcName);
        problems.push({
          path: at,
          at: "key",
          message: `a routed service of an app with several services needs portOffset, its port within each tenant's slot, so that removing or reordering another service moves no port; add "portOffset: ${position}" (its position among the services, which gave its host ports so far: portBase + slot*10 + ${position})`,
        });
      }
      const mounts = new Map<string, string>(); // container path → volume
      for (const [vol, path] of Object.entries(svc.volumes)) {
        const other = mounts.get(normalVolumePath(path));
        if (other !== undefined) {
          problems.push({
            path: [...at, "volumes", vol],
            message: `mounts at ${path}, where volume "${other}" is mounted already; Docker refuses two mounts at one path (give each volume its own path)`,
          });
        } else {
          mounts.set(normalVolumePath(path), vol);
        }
      }
      for (const vol of Object.keys(svc.volumes)) {
        const key = `${svcName}-${vol}`;
        const other = volumeOwners.get(key);
        if (other !== undefined) {
          problems.push({
            path: [...at, "volumes", vol],
            at: "key",
            message: `volume names would clash: ${svcName}/${vol} and ${other} both become "<tenant>-${key}"; rename one`,
          });
        }
        volumeOwners.set(key, `${svcName}/${vol}`);
      }
      if (svc.route !== undefined && svc.port === undefined) {
        problems.push({
          path: [...at, "route"],
          message: "a routed service needs `port` (the port it listens on in the container)",
        });
      }
      if (svc.health !== undefined && svc.port === undefined) {
        problems.push({
          path: [...at, "health"],
          message: "a health check needs `port` (the port it listens on in the container)",
        });
      }
      if (svc.route !== undefined) {
        const key = normalizeRoute(svc.route);
        const other = routes.get(key);
        if (other !== undefined) {
          problems.push({
            path: [...at, "route"],
            message: `route "${svc.route}" is already served by service "${other}" (each path prefix once)`,
          });
        } else {
          routes.set(key, svcName);
        }
      }
      const seen = new Set<string>();
      serviceSecrets(svc.secrets).forEach(({ env }, i) => {
        if (seen.has(env)) {
          problems.push({ path: [...at, "secrets", i], message: `sets ${env} twice` });
        }
        seen.add(env);
        if (Object.hasOwn(svc.env, env)) {
          problems.push({
            path: [...at, "secrets", i],
            message: `${env} is also in env; a variable is either a plain value or a secret`,
          });
        }
      });
    }
  }
  return problems;
}

function checkReferences(m: Manifest, known: KnownNames): Problem[] {
  const problems: Problem[] = [];
  const refs = [
    ["app", "apps", known.apps],
    ["plan", "plans", known.plans],
    ["host", "hosts", known.hosts],
  ] as const;
  for (const [tenantName, written] of known.tenants) {
    for (const [key, section, names] of refs) {
      const value = written[key];
      if (value !== undefined && names !== undefined && !names.has(value)) {
        const choices = [...names];
        problems.push({
          path: ["tenants", tenantName, key],
          message:
            `unknown ${key} "${value}"${didYouMean(value, choices)}; ` +
            (choices.length > 0
              ? `defined under ${section}: ${listChoices(choices)}`
              : `no ${section} are defined`),
        });
      }
    }
  }
  for (const [tenantName, tenant] of Object.entries(m.tenants)) {
    const app = m.apps[tenant.app];
    if (app === undefined) continue;
    const routed = routedServices(app);
    for (const [svc, port] of Object.entries(tenant.ports)) {
      const at = ["tenants", tenantName, "ports", svc];
      if (!routed.includes(svc)) {
        problems.push({
          path: at,
          at: "key",
          message:
            `app "${tenant.app}" has no routed service "${svc}"${didYouMean(svc, routed)}; ` +
            `fixed ports apply to ${routed.length > 0 ? listChoices(routed) : "routed services only"}`,
        });
      } else if (port < 1024 && !RESERVED_HOST_PORTS.has(port)) {
        problems.push({
          path: at,
          message: `port ${port} is privileged; use a port from 1024 to 65535`,
        });
      }
    }
  }
  return problems;
}

function checkTenantEnv(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [tenantName, tenant] of Object.entries(m.tenants)) {
    const app = m.apps[tenant.app];
    if (app === undefined) continue;
    const generated = new Set(
      Object.values(app.services)
        .filter((s) => s.tenantEnv)
        .flatMap((s) => serviceSecrets(s.secrets).map((x) => x.env)),
    );
    const appPlain = (key: string) =>
      Object.entries(app.services).find(([, s]) => s.tenantEnv && Object.hasOwn(s.env, key))?.[0];
    tenant.secretEnv.forEach((key, i) => {
      const at = ["tenants", tenantName, "secretEnv", i];
      const plainIn = appPlain(key);
      if (Object.hasOwn(tenant.env, key)) {
        problems.push({
          path: at,
          message: `${key} is also in env; a variable is either a plain value or a secret`,
        });
      } else if (plainIn !== undefined) {
        problems.push({
          path: at,
          message: `${key} is also a plain value in the env of app "${tenant.app}" (service "${plainIn}"), so the container would get it twice, plain and secret; remove it from the app's env or from secretEnv`,
        });
      } else if (generated.has(key)) {
        problems.push({
          path: at,
          message: `${key} is a secret the app "${tenant.app}" generates; remove it here or rename it`,
        });
      } else if (tenant.secretEnv.indexOf(key) !== i) {
        problems.push({ path: at, message: `${key} is listed twice` });
      }
    });
    for (const key of Object.keys(tenant.env)) {
      if (generated.has(key)) {
        problems.push({
          path: ["tenants", tenantName, "env", key],
          at: "key",
          message: `${key} is a secret the app "${tenant.app}" generates; a plain value cannot replace it`,
        });
      }
    }
  }
  return problems;
}

/** A tenant's domains as written, each with its key path. */
function domainsOf(
  tenantName: string,
  tenant: Partial<Tenant>,
): Array<[string, (string | number)[]]> {
  const domains: Array<[string, (string | number)[]]> = [];
  if (tenant.domain !== undefined) domains.push([tenant.domain, ["tenants", tenantName, "domain"]]);
  tenant.aliases?.forEach((d, i) => domains.push([d, ["tenants", tenantName, "aliases", i]]));
  return domains;
}

function checkDomains(m: Manifest, tenants: ReadonlyMap<string, Partial<Tenant>>): Problem[] {
  const problems: Problem[] = [];
  const owners = new Map<string, string>();
  // A host's own name as a tenant domain: its records would point the host's name at itself
  // (a CNAME loop) or round-robin it with another machine.
  const hostNames = new Map<string, string>();
  for (const [hostName, host] of Object.entries(m.hosts)) {
    for (const [key, value] of [
      ["publicAddress", host.publicAddress],
      ["address", host.address],
    ] as const) {
      if (value !== undefined && !hostNames.has(value.toLowerCase())) {
        hostNames.set(value.toLowerCase(), `host "${hostName}"'s ${key}`);
      }
    }
  }
  for (const [tenantName, tenant] of tenants) {
    for (const [domain, path] of domainsOf(tenantName, tenant)) {
      const host = hostNames.get(domain);
      if (host !== undefined) {
        problems.push({
          path,
          message: `domain ${domain} is ${host}, where DNS records point: a record for it would point the host's name at itself; give the tenant a name of its own`,
        });
        continue;
      }
      const owner = owners.get(domain);
      if (owner === undefined) {
        owners.set(domain, tenantName);
      } else {
        problems.push({
          path,
          message:
            owner === tenantName
              ? `domain ${domain} is listed twice for this tenant`
              : `domain ${domain} is already served by tenant "${owner}"; each domain belongs to one tenant`,
        });
      }
    }
  }
  return problems;
}

/**
 * The apex of a managed zone (`example.com` itself) usually serves the company's own site, and
 * Cloudflare keeps several A records on one name: a tenant entry would round-robin that site
 * onto the VPS. Only a tenant with `zoneApex: true` may have one.
 */
function checkZoneApex(m: Manifest, tenants: ReadonlyMap<string, Partial<Tenant>>): Problem[] {
  const problems: Problem[] = [];
  for (const [tenantName, tenant] of tenants) {
    let apex = false;
    for (const [domain, path] of domainsOf(tenantName, tenant)) {
      if (!Object.hasOwn(m.dns.zones, domain)) continue;
      apex = true;
      if (tenant.zoneApex === true) continue;
      problems.push({
        path,
        message: `${domain} is the apex of a managed zone (dns.zones), which usually serves your own site: a record here would share that name with this tenant's host. Use a name under it (e.g. ${tenantName}.${domain}), or set zoneApex: true on the tenant if the zone is the tenant's own`,
      });
    }
    if (tenant.zoneApex === true && !apex) {
      problems.push({
        path: ["tenants", tenantName, "zoneApex"],
        message:
          "no domain of this tenant is the apex of a managed zone; remove zoneApex, so a later edit cannot take an apex unnoticed",
      });
    }
  }
  return problems;
}

/**
 * Two tenants must never share a container, volume or network name, nor the Pulumi name of a
 * DNS record (core/names.ts makes those distinct by construction; this keeps it so).
 */
function checkObjectNames(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  const owners = new Map<string, string>(); // `${kind}/${name}` → tenant
  for (const [tenantName, tenant] of Object.entries(m.tenants)) {
    const app = m.apps[tenant.app];
    if (app === undefined) continue;
    const records = [tenant.domain, ...tenant.aliases].map((d) => ({
      kind: "DNS record",
      name: dnsResourceName(tenantName, d),
    }));
    for (const { kind, name } of [...dockerObjectNames(tenantName, app), ...records]) {
      const owner = owners.get(`${kind}/${name}`);
      if (owner !== undefined && owner !== tenantName) {
        problems.push({
          path: ["tenants", tenantName],
          at: "key",
          message: `its ${kind} would be named "${name}", the same as a ${kind} of tenant "${owner}"; rename one of the tenants (or the service/volume)`,
        });
      } else {
        owners.set(`${kind}/${name}`, tenantName);
      }
    }
  }
  return problems;
}

/**
 * Image resources are named `<host>-image-<slug>` (core/names.ts imageSlug: readable text cut
 * at 40 characters plus 8 hex digits of a hash); two images must not end up with one name.
 */
function checkImageNames(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  const names = new Map<string, string>(); // resource name → image
  const reported = new Set<string>();
  // Each tenant's own image (its pin, its channel's or the app's: core/images.ts tenantImage).
  for (const { tenant: tenantName, image, path } of tenantImagePaths(m)) {
    const host = m.tenants[tenantName]!.host;
    if (m.hosts[host] === undefined) continue;
    const name = `${host}-image-${imageSlug(image)}`;
    const other = names.get(name);
    if (other === undefined) {
      names.set(name, image);
    } else if (other !== image && !reported.has(name)) {
      reported.add(name);
      problems.push({
        path,
        message: `images ${other} and ${image} would get one resource name on host "${host}" (${name}); change this reference (a tag or a digest)`,
      });
    }
  }
  return problems;
}

function checkSlotsAndPorts(m: Manifest, tenants: ReadonlyMap<string, Partial<Tenant>>): Problem[] {
  const problems: Problem[] = [];
  const slots = new Map<string, string>(); // `${host}/${slot}` → tenant
  const ports = new Map<string, PortUse>(); // `${host}/${port}`
  for (const [tenantName, written] of tenants) {
    if (written.host === undefined || written.slot === undefined) continue;
    const tenant = { host: written.host, slot: written.slot, ports: written.ports ?? {} };
    const host = m.hosts[tenant.host];
    const app = written.app === undefined ? undefined : m.apps[written.app];
    if (host === undefined) continue;
    const retired = Object.entries(host.retired ?? {});
    if (retired.some(([name]) => name === tenantName)) {
      problems.push({
        path: ["tenants", tenantName],
        at: "key",
        message: `a tenant "${tenantName}" was removed from host "${tenant.host}" and its volumes may still be there (hosts.${tenant.host}.retired): this one would take them over. Pick another name, or delete the old volumes and then the retired entry`,
      });
    }
    const retiredIn = retired.find(([, slot]) => slot === tenant.slot)?.[0];
    if (retiredIn !== undefined && retiredIn !== tenantName) {
      problems.push({
        path: ["tenants", tenantName, "slot"],
        message: `slot ${tenant.slot} on host "${tenant.host}" belonged to the removed tenant "${retiredIn}" (hosts.${tenant.host}.retired), whose volumes may still be there; pick a free slot (\`tenantry add\` picks one)`,
      });
      continue;
    }
    const slotKey = `${tenant.host}/${tenant.slot}`;
    const slotOwner = slots.get(slotKey);
    if (slotOwner !== undefined) {
      problems.push({
        path: ["tenants", tenantName, "slot"],
        message: `slot ${tenant.slot} on host "${tenant.host}" is already taken by tenant "${slotOwner}"; pick a free slot (\`tenantry add\` picks one)`,
      });
      continue;
    }
    slots.set(slotKey, tenantName);
    const limit = maxSlot(host.portBase);
    if (tenant.slot > limit) {
      problems.push({
        path: ["tenants", tenantName, "slot"],
        message: `slot ${tenant.slot} would put ports above 65535 on host "${tenant.host}" (portBase ${host.portBase}); use a slot from 1 to ${limit}`,
      });
      continue;
    }
    if (app === undefined) continue;
    const reservedPorts = reservedHostPorts(host);
    for (const use of portUses(tenantName, tenant, app, host)) {
      const reserved = reservedPorts.get(use.port);
      if (reserved !== undefined) {
        problems.push({
          path: use.path,
          message: `host port ${use.port} of service "${use.service}" is used by ${reserved} on host "${tenant.host}"; ${use.fixed ? "pick another fixed port" : "change the slot"}`,
        });
        continue;
      }
      const key = `${tenant.host}/${use.port}`;
      const other = ports.get(key);
      if (other === undefined) {
        ports.set(key, use);
        continue;
      }
      // Blame the fixed port: a planned port follows from the slot, a fixed one breaks the plan.
      const [blamed, kept] = other.fixed && !use.fixed ? [other, use] : [use, other];
      problems.push({
        path: blamed.path,
        message: `host port ${use.port} of service "${blamed.service}" clashes with service "${kept.service}" of tenant "${kept.tenant}" on host "${tenant.host}" (${kept.fixed ? "its fixed port" : `planned from its slot ${kept.slot}`}); ${blamed.fixed ? "pick another fixed port" : "change the slot"}`,
      });
    }
  }
  return problems;
}

interface PortUse {
  readonly tenant: string;
  readonly service: string;
  readonly port: number;
  readonly slot: number;
  /** A `ports:` override rather than the port planned from the slot. */
  readonly fixed: boolean;
  readonly path: readonly (string | number)[];
}

function portUses(
  tenantName: string,
  tenant: Pick<Tenant, "slot" | "ports">,
  app: App,
  host: Manifest["hosts"][string],
): PortUse[] {
  return Object.entries(tenantPorts(tenant, app, host)).map(([service, port]) => {
    const fixed = Object.hasOwn(tenant.ports, service);
    return {
      tenant: tenantName,
      service,
      port,
      slot: tenant.slot,
      fixed,
      path: fixed ? ["tenants", tenantName, "ports", service] : ["tenants", tenantName, "slot"],
    };
  });
}

/** Memory per host: budget, allocated and the tenants placed there. */
export interface HostUsage {
  readonly host: string;
  readonly budgetMb: number;
  readonly allocatedMb: number;
  readonly tenants: readonly string[];
}

export function hostUsage(m: Manifest): HostUsage[] {
  return Object.entries(m.hosts).map(([hostName, host]) => {
    const tenants = Object.entries(m.tenants).filter(([, t]) => t.host === hostName);
    const allocatedMb = tenants.reduce((sum, [, t]) => sum + (m.plans[t.plan]?.memoryMb ?? 0), 0);
    return {
      host: hostName,
      budgetMb: host.memoryMb - host.reserveMb,
      allocatedMb,
      tenants: tenants.map(([name]) => name),
    };
  });
}

function checkCapacity(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const usage of hostUsage(m)) {
    const host = m.hosts[usage.host]!;
    if (usage.budgetMb <= 0) {
      problems.push({
        path: ["hosts", usage.host, "memoryMb"],
        message: `${host.memoryMb} MB leaves nothing for tenants after the ${host.reserveMb} MB reserve (reserveMb); raise memoryMb above reserveMb or lower reserveMb`,
      });
    } else if (usage.allocatedMb > usage.budgetMb) {
      problems.push({
        path: ["hosts", usage.host, "memoryMb"],
        message:
          `over capacity: tenants need ${usage.allocatedMb} MB but host "${usage.host}" has ${usage.budgetMb} MB ` +
          `(${host.memoryMb} MB minus ${host.reserveMb} MB reserve) for ${usage.tenants.join(", ")}; ` +
          "move a tenant to another host, pick a smaller plan or raise memoryMb",
      });
    }
  }
  for (const [tenantName, tenant] of Object.entries(m.tenants)) {
    const app = m.apps[tenant.app];
    const plan = m.plans[tenant.plan];
    if (app === undefined || plan === undefined) continue;
    for (const service of Object.keys(app.services)) {
      const mb = serviceMemoryMb(app, service, plan.memoryMb);
      if (mb < DOCKER_MIN_MEMORY_MB) {
        problems.push({
          path: ["tenants", tenantName, "plan"],
          message: `plan "${tenant.plan}" leaves service "${service}" ${mb} MB; Docker needs at least ${DOCKER_MIN_MEMORY_MB} MB per container (pick a bigger plan or raise the service's weight)`,
        });
      }
    }
  }
  return problems;
}
