// Host port planning. A tenant's ports depend only on its own entry (host portBase, slot, each
// service's portOffset and its overrides), never on other tenants or their order in the file.

/** The parts of a manifest entry port planning reads (structural: core/ sits below manifest/). */
export interface PortHost {
  readonly port: number;
  readonly portBase: number;
  readonly nginx: { readonly listen: readonly string[] };
}
export interface PortApp {
  readonly services: Readonly<
    Record<
      string,
      { readonly route?: string | undefined; readonly portOffset?: number | undefined }
    >
  >;
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

/** The planned host port of the service with this offset, for the tenant in `slot`. */
export function plannedPort(portBase: number, slot: number, offset: number): number {
  return portBase + slot * PORT_STRIDE + offset;
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
 * Whether a service must say its `portOffset`: a routed service of an app with more than one
 * service. Its port then belongs to the service, so removing or reordering another service
 * moves nothing. A single-service app's service has offset 0.
 */
export function needsPortOffset(app: PortApp, service: string): boolean {
  return (
    Object.keys(app.services).length > 1 &&
    Object.hasOwn(app.services, service) &&
    app.services[service]!.route !== undefined
  );
}

/**
 * The offset of a service's host port within its tenant's slot: `portOffset` as written, else
 * the service's position in the app. Before offsets existed, the position was the rule; it is
 * what the validation asks users to write down (so no running tenant's port moves), and the
 * fallback still serves single-service apps (position 0) and half-valid manifests the rules
 * check.
 */
export function portOffsetOf(app: PortApp, service: string): number {
  const explicit = Object.hasOwn(app.services, service)
    ? app.services[service]!.portOffset
    : undefined;
  return explicit ?? Object.keys(app.services).indexOf(service);
}

/** Host ports for a tenant's routed services: the tenant's override if it has one, else planned. */
export function tenantPorts(
  tenant: PortTenant,
  app: PortApp,
  host: Pick<PortHost, "portBase">,
): Record<string, number> {
  // No prototype: a service may be called "constructor".
  const ports = Object.create(null) as Record<string, number>;
  for (const [name, service] of Object.entries(app.services)) {
    if (service.route === undefined) continue;
    ports[name] = Object.hasOwn(tenant.ports, name)
      ? tenant.ports[name]!
      : plannedPort(host.portBase, tenant.slot, portOffsetOf(app, name));
  }
  return ports;
}
