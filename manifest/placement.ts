// Where a new tenant fits: the next slot on a host and the host with room for a plan.
// Pure, and built on the same port planning and memory accounting the rules check.
import { maxSlot, reservedHostPorts, tenantPorts } from "../core/ports";
import { hostUsage, type HostUsage } from "./rules";
import type { App, Manifest } from "./schema";

/**
 * The slot for a new tenant on the host: the lowest one above every slot in use or retired
 * there (hosts.<name>.retired) whose ports (planned, or the fixed `ports` given) clash with no
 * port in use. A gap below is never filled: it may be a removed tenant's, whose volumes are
 * still on the host. Undefined when the host is full or unknown.
 */
export function nextSlot(
  m: Manifest,
  hostName: string,
  app: App | undefined,
  fixedPorts: Readonly<Record<string, number>> = {},
): number | undefined {
  if (!Object.hasOwn(m.hosts, hostName)) return undefined;
  const host = m.hosts[hostName]!;
  const onHost = Object.values(m.tenants).filter((t) => t.host === hostName);
  const highest = Math.max(0, ...onHost.map((t) => t.slot), ...Object.values(host.retired ?? {}));
  const used = new Set(
    onHost.flatMap((t) => {
      const tenantApp = m.apps[t.app];
      return tenantApp ? Object.values(tenantPorts(t, tenantApp, host)) : [];
    }),
  );
  const reserved = reservedHostPorts(host);
  for (let slot = highest + 1; slot <= maxSlot(host.portBase); slot++) {
    const ports = app ? Object.values(tenantPorts({ slot, ports: fixedPorts }, app, host)) : [];
    if (ports.every((p) => !used.has(p) && !reserved.has(p))) return slot;
  }
  return undefined;
}

/** A host's memory with what is left and how many more tenants of each plan fit there. */
export interface HostRoom extends HostUsage {
  readonly freeMb: number;
  /** Plan name → how many more tenants of that plan fit in the free memory. */
  readonly fits: Readonly<Record<string, number>>;
}

export function hostRoom(m: Manifest): HostRoom[] {
  return hostUsage(m).map((usage) => {
    const freeMb = Math.max(0, usage.budgetMb - usage.allocatedMb);
    const fits = Object.fromEntries(
      Object.entries(m.plans).map(([name, plan]) => [name, Math.floor(freeMb / plan.memoryMb)]),
    );
    return { ...usage, freeMb, fits };
  });
}

/**
 * The host for a new tenant that needs `memoryMb`: the only host if there is one (the rules
 * then report whether it fits), else the host with the most free memory that fits the plan.
 * Undefined when no host has room.
 */
export function pickHost(m: Manifest, memoryMb: number): string | undefined {
  const rooms = hostRoom(m);
  if (rooms.length === 1) return rooms[0]!.host;
  const fitting = rooms.filter((r) => r.freeMb >= memoryMb);
  return fitting.sort((a, b) => b.freeMb - a.freeMb)[0]?.host;
}
