// Pure: synthetic manifests for the benchmark. N tenants spread round-robin over several hosts,
// alternating a single-service app (like the example's mcoder) and a three-service app (the
// issue's frontbase: backend, frontend, redis), with hosts sized so every manifest validates.
import { stringify } from "yaml";

/** The one-tenant edits the benchmark compares against the unchanged manifest. */
export type ManifestChange =
  /** A new tenant ("newco", single-service) first in the tenants map, on the first host. */
  | { readonly kind: "onboard" }
  /** One tenant's plain env changes. */
  | { readonly kind: "env"; readonly tenant: string }
  /** One tenant moves to a bigger plan. */
  | { readonly kind: "plan"; readonly tenant: string };

export interface GenerateOptions {
  readonly tenants: number;
  /** Hosts get about this many tenants each, with at least two hosts (default 25). */
  readonly tenantsPerHost?: number;
  readonly change?: ManifestChange;
}

export interface GeneratedTenant {
  readonly name: string;
  readonly app: AppName;
  readonly host: string;
}

export interface GeneratedManifest {
  /** The tenants.yaml text. */
  readonly text: string;
  /** Tenants in map order. */
  readonly tenants: readonly GeneratedTenant[];
  /** Host name → its tenants. */
  readonly hosts: Readonly<Record<string, readonly string[]>>;
}

/** Name of the tenant the "onboard" change adds. */
export const NEW_TENANT = "newco";

const ZONE = "example.com";
const RESERVE_MB = 256;
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i";

const APPS = {
  mcoder: {
    maxBodySize: "50m",
    services: {
      web: {
        image: "ghcr.io/example/mcoder:1.4.2",
        port: 8000,
        route: "/",
        health: "/api/health",
        volumes: { instance: "/app/instance", files: "/app/files" },
        env: { FLASK_ENV: "production" },
        secrets: ["SECRET_KEY"],
      },
    },
  },
  frontbase: {
    services: {
      backend: {
        image: "ghcr.io/example/frontbase-backend:2.3.0",
        port: 8000,
        route: "/api",
        portOffset: 0,
        health: "/api/health",
        env: { REDIS_HOST: "redis" },
        secrets: ["DB_PASSWORD", "REDIS_TOKEN"],
        weight: 2,
      },
      frontend: {
        image: "ghcr.io/example/frontbase-frontend:2.3.0",
        port: 80,
        route: "/",
        portOffset: 1,
      },
      redis: {
        image: "redis:7-alpine",
        port: 6379,
        volumes: { data: "/data" },
        tenantEnv: false,
      },
    },
  },
} as const;

const PLANS = {
  small: { memoryMb: 300, cpus: 0.5 },
  team: { memoryMb: 600, cpus: 1 },
} as const;

export type AppName = keyof typeof APPS;
type PlanName = keyof typeof PLANS;

interface TenantEntry {
  app: AppName;
  plan: PlanName;
  host: string;
  slot: number;
  domain: string;
  aliases?: string[];
  env: Record<string, string>;
  secretEnv?: string[];
}

export const tenantName = (i: number): string => `tenant-${String(i + 1).padStart(4, "0")}`;
export const hostName = (h: number): string => `vps${h + 1}`;

/** Number of hosts for `tenants` tenants at about `perHost` each, never fewer than two. */
export function hostCount(tenants: number, perHost = 25): number {
  return Math.max(2, Math.ceil(tenants / perHost));
}

/**
 * Tenant i goes to host i mod H in slot ⌊i/H⌋+1; odd slots run mcoder on plan small, even
 * slots frontbase on plan team. Every fourth tenant has an alias outside the managed zone and
 * every third a secretEnv key, so those code paths are exercised too.
 */
function tenantEntry(i: number, hosts: number): TenantEntry {
  const name = tenantName(i);
  const slot = Math.floor(i / hosts) + 1;
  const app: AppName = slot % 2 === 1 ? "mcoder" : "frontbase";
  return {
    app,
    plan: app === "mcoder" ? "small" : "team",
    host: hostName(i % hosts),
    slot,
    domain: `${name}.${ZONE}`,
    ...(i % 4 === 3 ? { aliases: [`${name}.customers.test`] } : {}),
    env: { COMPANY_NAME: `Company ${i + 1}` },
    ...(i % 3 === 2 ? { secretEnv: ["OPENAI_API_KEY"] } : {}),
  };
}

function applyChange(
  tenants: Array<[string, TenantEntry]>,
  change: ManifestChange,
): Array<[string, TenantEntry]> {
  if (change.kind === "onboard") {
    const first = hostName(0);
    const slot = Math.max(0, ...tenants.filter(([, t]) => t.host === first).map(([, t]) => t.slot));
    const entry: TenantEntry = {
      app: "mcoder",
      plan: "small",
      host: first,
      slot: slot + 1,
      domain: `${NEW_TENANT}.${ZONE}`,
      env: { COMPANY_NAME: "NewCo" },
    };
    return [[NEW_TENANT, entry], ...tenants];
  }
  const target = tenants.find(([name]) => name === change.tenant);
  if (target === undefined) throw new Error(`no tenant ${change.tenant} to change`);
  const [, entry] = target;
  if (change.kind === "env") entry.env = { ...entry.env, COMPANY_NAME: "Renamed Company" };
  else entry.plan = entry.plan === "small" ? "team" : "small";
  return tenants;
}

/** A valid manifest with `tenants` tenants (one more with the "onboard" change). */
export function generateManifest(options: GenerateOptions): GeneratedManifest {
  const hostTotal = hostCount(options.tenants, options.tenantsPerHost);
  const base = Array.from({ length: options.tenants }, (_, i): [string, TenantEntry] => [
    tenantName(i),
    tenantEntry(i, hostTotal),
  ]);

  // Sized on the unchanged tenants, with room for one more of the biggest plan: a change
  // (onboarding, a bigger plan) still fits and leaves the hosts' entries as they were.
  const biggest = Math.max(...Object.values(PLANS).map((p) => p.memoryMb));
  const hosts = Array.from({ length: hostTotal }, (_, h) => {
    const needed = base
      .filter(([, t]) => t.host === hostName(h))
      .reduce((sum, [, t]) => sum + PLANS[t.plan].memoryMb, 0);
    const entry = {
      address: `10.0.${Math.floor(h / 250)}.${(h % 250) + 1}`,
      user: "deploy",
      hostKey: HOST_KEY,
      memoryMb: needed + biggest + RESERVE_MB,
      reserveMb: RESERVE_MB,
    };
    return [hostName(h), entry] as const;
  });

  const tenants = options.change ? applyChange(base, options.change) : base;
  const byHost: Record<string, string[]> = Object.fromEntries(hosts.map(([name]) => [name, []]));
  for (const [name, t] of tenants) byHost[t.host]!.push(name);

  const manifest = {
    hosts: Object.fromEntries(hosts),
    dns: { zones: { [ZONE]: "0123456789abcdef0123456789abcdef" } },
    apps: APPS,
    plans: PLANS,
    tenants: Object.fromEntries(tenants),
  };
  return {
    text: stringify(manifest, { aliasDuplicateObjects: false, lineWidth: 0 }),
    tenants: tenants.map(([name, t]) => ({ name, app: t.app, host: t.host })),
    hosts: byHost,
  };
}
