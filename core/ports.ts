// Host port planning. A tenant's ports depend only on its own entry (host portBase, slot, the
// app's service order and its overrides), never on other tenants or their order in the file.

/** The parts of a manifest entry port planning reads (structural: core/ sits below manifest/). */
export interface PortHost {
  readonly port: number;
  readonly portBase: number;
  readonly nginx: { readonly listen: readonly string[] };
}
export interface PortApp {
  readonly services: Readonly<Record<string, { readonly route?: string | undefined }>>;
}
export interface PortTenant {
  readonly slot: number;
  readonly ports: Readonly<Record<string, number>>;
}

/** Ports reserved per slot: an app may have at most this many services. */
export const PORT_STRIDE = 10;

/** Host ports that are never handed to a container. */
export const RESERVED_HOST_PORTS: ReadonlyMap<number, string> = new Map([
  [22, "SSH"],
  [80, "nginx"],
  [443, "nginx"],
]);

/**
 * Host ports no tenant may take on this host: the usual ones, the host's own SSH port and every
 * port nginx listens on there.
 */
export function reservedHostPorts(host: Pick<PortHost, "port" | "nginx">): Map<number, string> {
  const reserved = new Map(RESERVED_HOST_PORTS);
  reserved.set(host.port, "SSH");
  const listened = new Set<number>();
  for (const listen of host.nginx.listen) {
    const port = Number(/([0-9]+)$/.exec(listen)?.[1]);
    if (!Number.isInteger(port) || listened.has(port)) continue; // "80" and "[::]:80"
    listened.add(port);
    reserved.set(port, `nginx (nginx.listen "${listen}")`);
  }
  return reserved;
}

/** The planned host port of the service at `index` in the app, for the tenant in `slot`. */
export function plannedPort(portBase: number, slot: number, index: number): number {
  return portBase + slot * PORT_STRIDE + index;
}

/** The highest slot whose ports still fit under 65535 on a host with this base. */
export function maxSlot(portBase: number): number {
  return Math.floor((65535 - (PORT_STRIDE - 1) - portBase) / PORT_STRIDE);
}

/** Services nginx routes to, in app order: only these are published on the host. */
export function routedServices(app: PortApp): string[] {
  return Object.entries(app.services)
    .filter(([, s]) => s.route !== undefined)
    .map(([name]) => name);
}

/**
 * Host ports for a tenant's routed services: the tenant's override if it has one, else the
 * planned port. The service index counts every service in app order, so making a service
 * routed later does not move the others.
 */
export function tenantPorts(
  tenant: PortTenant,
  app: PortApp,
  host: Pick<PortHost, "portBase">,
): Record<string, number> {
  const ports: Record<string, number> = {};
  Object.entries(app.services).forEach(([name, service], index) => {
    if (service.route === undefined) return;
    ports[name] = tenant.ports[name] ?? plannedPort(host.portBase, tenant.slot, index);
  });
  return ports;
}
