// The tenants.yaml format: one zod schema that validates the structure, types the program and
// generates schema/tenants.schema.json for editors. Rules across entries live in rules.ts.
import { isIP } from "node:net";
import { z } from "zod";

/** Names of hosts, apps, services, volumes, plans and tenants: they become Docker and file names. */
export const DNS_LABEL = /^[a-z](?:[a-z0-9-]{0,29}[a-z0-9])?$/;
const DNS_LABEL_HINT =
  'lowercase letters, digits and "-", starting with a letter, not ending with "-", at most 31 characters, e.g. "acme"';

/** A fully qualified domain name in lowercase, no wildcard: served by nginx and put in DNS. */
export const HOSTNAME =
  /^(?=.{1,253}$)(?!.*\.[0-9]+$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const HOSTNAME_HINT =
  'a lowercase domain name such as "acme.example.com": letters, digits, "-" and dots; no wildcard, spaces, quotes or IP address';

/** A single-label or dotted host name, for SSH addresses (`vps1`, `vps1.internal`). */
const HOST_ADDRESS =
  /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export const ENV_KEY = /^[A-Z_][A-Z0-9_]*$/;
const ENV_KEY_HINT =
  'upper case letters, digits and "_", not starting with a digit, e.g. "SECRET_KEY"';

/** Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]. */
export const IMAGE_REF =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** No "." or ".." segment: a path must mean what it says (nginx.dir is written as root). */
const NO_DOT_SEGMENT = String.raw`(?!.*(?:^|\/)\.{1,2}(?:\/|$))`;
const ABS_PATH = new RegExp(`^${NO_DOT_SEGMENT}\\/(?:[A-Za-z0-9._-]+\\/?)*$`);
const ROUTE = new RegExp(`^${NO_DOT_SEGMENT}\\/(?:[A-Za-z0-9._~-]+\\/)*(?:[A-Za-z0-9._~-]+)?$`);
const URL_PATH = new RegExp(`^${NO_DOT_SEGMENT}\\/[A-Za-z0-9._~/-]*$`);
export const HOST_KEY =
  /^(?:ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) AAAA[A-Za-z0-9+/]+={0,3}$/;

/**
 * A string in a given format. Its one message serves both a wrong format and a wrong type
 * (an empty value, a number), so either way the user reads what would be valid.
 */
const pattern = (format: RegExp, message: string) =>
  z.string({ error: message }).regex(format, { error: message });

const label = (what: string) =>
  pattern(DNS_LABEL, `${what} must be a DNS label (${DNS_LABEL_HINT})`);
const hostname = pattern(HOSTNAME, `must be a domain name (${HOSTNAME_HINT})`);
const envKey = pattern(ENV_KEY, `must be an environment variable name (${ENV_KEY_HINT})`);
const hostPath = pattern(
  ABS_PATH,
  `must be an absolute path of letters, digits, '.', '_', '-' and '/', without "." or ".." segments`,
);
const envValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error:
      'must be a string, number or boolean (lists and maps are not environment values; "" is an empty value)',
  })
  .transform((v) => String(v))
  .refine((v) => !/[\n\r\0]/.test(v), {
    error: "must be a single line (no newline or NUL characters)",
  });
const envMap = z.record(envKey, envValue);
const port = z
  .int({ error: "must be a whole number from 1 to 65535" })
  .min(1, { error: "must be a whole number from 1 to 65535" })
  .max(65535, { error: "must be a whole number from 1 to 65535" });

const nginxSchema = z
  .strictObject({
    dir: hostPath
      .default("/etc/nginx/tenantry")
      .describe("Directory tenantry owns on the host: sites/, lock and state files."),
    include: hostPath
      .default("/etc/nginx/conf.d/tenantry.conf")
      .describe(
        "File nginx already includes in its http block; tenantry writes its include there.",
      ),
    config: hostPath
      .optional()
      .describe("Main nginx config passed as `nginx -c` (default: nginx's own default)."),
    listen: z
      .array(
        z.string().regex(/^(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):)?[0-9]{1,5}$/, {
          error: 'must be a port or address:port, e.g. "80", "[::]:80" or "127.0.0.1:8080"',
        }),
      )
      .min(1, { error: "needs at least one address to listen on" })
      .default(["80", "[::]:80"])
      .describe("nginx listen addresses for tenant sites and the catch-all server."),
  })
  .describe("Where nginx lives on this host; the defaults fit Debian and Ubuntu.");

const hostSchema = z
  .strictObject({
    address: z
      .string()
      .refine((v) => isIP(v) !== 0 || HOST_ADDRESS.test(v), {
        error: "must be an IP address or a host name, e.g. 203.0.113.10 or vps1.example.com",
      })
      .describe("IP or host name that SSH and the Docker connection use."),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, {
        error: 'must be a Unix user name, e.g. "deploy" or "root"',
      })
      .describe(
        "SSH user. A non-root user needs the sudoers line from the README and the docker group.",
      ),
    port: port.default(22).describe("SSH port."),
    hostKey: z
      .string({
        error:
          'must be the host\'s SSH public key, e.g. "ssh-ed25519 AAAAC3Nz...": run `ssh-keyscan -t ed25519 HOST` and copy the key part',
      })
      .regex(HOST_KEY, {
        error:
          'must be "TYPE BASE64" such as "ssh-ed25519 AAAAC3Nz..." (the output of `ssh-keyscan -t ed25519 HOST` without the host name)',
      })
      .describe("Pinned SSH host key: a swapped host or a man in the middle stops the apply."),
    memoryMb: z
      .int({ error: "must be a whole number of megabytes" })
      .min(64, { error: "must be at least 64 (megabytes)" })
      .describe("RAM budget for tenants on this host, in MB."),
    reserveMb: z
      .int({ error: "must be a whole number of megabytes" })
      .min(0, { error: "must be 0 or more (megabytes)" })
      .default(256)
      .describe("RAM kept back for nginx, Docker and the OS, in MB (default 256)."),
    publicAddress: z
      .string()
      .refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), {
        error: "must be an IP address or a domain name",
      })
      .optional()
      .describe("Address DNS records point at, when it differs from `address`."),
    portBase: z
      .int({ error: "must be a whole number" })
      .min(1024, { error: "must be from 1024 to 60000" })
      .max(60000, { error: "must be from 1024 to 60000" })
      .default(10000)
      .describe("Host ports are portBase + slot*10 + service index (default 10000)."),
    nginx: nginxSchema.prefault({}),
  })
  .describe("A VPS that runs tenants.");

const serviceSchema = z
  .strictObject({
    image: z
      .string({ error: 'must be an image reference, e.g. "ghcr.io/example/app:1.4.2"' })
      .regex(IMAGE_REF, {
        error:
          'must be an image reference such as "redis:7-alpine" or "ghcr.io/example/app:1.4.2" (lowercase repository, optional tag or @sha256 digest)',
      })
      .describe("Container image."),
    port: port.optional().describe("Port the service listens on inside the container."),
    route: pattern(
      ROUTE,
      'must be a URL path prefix such as "/" or "/api" (no "." or ".." segments)',
    )
      .optional()
      .describe(
        "nginx serves this path prefix from the service. Without it the service is internal.",
      ),
    health: pattern(URL_PATH, 'must be a URL path such as "/api/health" (no "." or ".." segments)')
      .optional()
      .describe("HTTP path polled inside the container as the Docker health check."),
    command: z
      .array(z.string().refine((v) => !/[\n\r\0]/.test(v), { error: "must be a single line" }))
      .optional()
      .describe("Overrides the image's command (argv list)."),
    volumes: z
      .record(
        label("volume name"),
        pattern(
          ABS_PATH,
          'must be an absolute path inside the container, e.g. /data (no "." or ".." segments)',
        ),
      )
      .default({})
      .describe("Named volumes: name → path in the container. Kept when a tenant is removed."),
    env: envMap.default({}).describe("Environment for every tenant of this app."),
    secrets: z
      .array(
        pattern(
          /^[A-Z_][A-Z0-9_]*(?:=[A-Z_][A-Z0-9_]*)?$/,
          'must be "NAME" or "ENV=NAME" in upper case, e.g. "SECRET_KEY" or "POSTGRES_PASSWORD=DB_PASSWORD"',
        ),
      )
      .default([])
      .describe(
        "Random secrets generated per tenant. NAME sets env NAME; ENV=NAME sets env ENV to secret NAME (share one secret between services).",
      ),
    tenantEnv: z
      .boolean({ error: "must be true or false" })
      .default(true)
      .describe(
        "Whether the tenant's env and secretEnv reach this service (false for redis, postgres).",
      ),
    weight: z
      .number({ error: "must be a number" })
      .positive({ error: "must be greater than 0" })
      .default(1)
      .describe("Share of the plan's memory and CPU this service gets (default 1)."),
  })
  .describe("One container of the app.");

const appSchema = z
  .strictObject({
    services: z
      .record(label("service name"), serviceSchema)
      .refine((s) => Object.keys(s).length > 0, { error: "needs at least one service" })
      .describe("Containers of one tenant, reachable from each other by service name."),
    maxBodySize: z
      .string()
      .regex(/^[0-9]{1,6}[kmg]?$/, { error: 'must be an nginx size such as "25m" or "1g"' })
      .default("25m")
      .describe("nginx client_max_body_size for uploads (default 25m)."),
  })
  .describe("An application sold to many tenants.");

const planSchema = z
  .strictObject({
    memoryMb: z
      .int({ error: "must be a whole number of megabytes" })
      .min(16, { error: "must be at least 16 (megabytes)" })
      .describe("Memory limit for all of a tenant's containers together, in MB."),
    cpus: z
      .number({ error: "must be a number of CPUs, e.g. 0.5" })
      .min(0.01, { error: "must be at least 0.01" })
      .max(256, { error: "must be at most 256" })
      .describe("CPU limit for all of a tenant's containers together."),
  })
  .describe("A tier: resource limits per tenant.");

const tenantSchema = z
  .strictObject({
    app: label("app name").describe("Key under `apps`."),
    plan: label("plan name").describe("Key under `plans`."),
    host: label("host name").describe("Key under `hosts`."),
    slot: z
      .int({ error: "must be a whole number from 1 up" })
      .min(1, { error: "must be a whole number from 1 up" })
      .describe(
        "Stable small number per host; the tenant's host ports derive from it. Never reuse while data exists.",
      ),
    domain: hostname.describe(
      "Main domain. In a zone under dns.zones it is managed; otherwise the customer points it.",
    ),
    aliases: z
      .array(hostname)
      .default([])
      .describe("More domains served by the same site (custom domains)."),
    tls: z
      .enum(["none", "certbot"], { error: 'must be "none" or "certbot"' })
      .default("none")
      .describe("TLS mode. certbot is accepted but not automated yet (see README)."),
    env: envMap.default({}).describe("Environment for this tenant; overrides the app's env."),
    secretEnv: z
      .array(envKey)
      .default([])
      .describe("Env names whose values come from stack config secrets tenant.<name>.<KEY>."),
    ports: z
      .record(label("service name"), port)
      .default({})
      .describe("Fixed host ports per routed service, for instances that already run on them."),
  })
  .describe("One customer.");

export const manifestSchema = z
  .strictObject({
    hosts: z
      .record(label("host name"), hostSchema)
      .refine((h) => Object.keys(h).length > 0, { error: "needs at least one host" })
      .describe("VPSes by name, e.g. vps1: the hosts tenants run on."),
    dns: z
      .strictObject({
        zones: z
          .record(
            hostname,
            pattern(/^[0-9a-f]{32}$/, "must be a Cloudflare zone id: 32 lowercase hex characters"),
          )
          .default({})
          .describe("Cloudflare zone ids by zone name. Domains under a zone get records."),
      })
      .prefault({})
      .describe("DNS records tenantry manages in Cloudflare."),
    apps: z
      .record(label("app name"), appSchema)
      .describe("Applications by name: the containers each tenant of the app gets."),
    plans: z
      .record(label("plan name"), planSchema)
      .describe("Tiers by name, e.g. small: memory and CPU limits per tenant."),
    tenants: z
      .record(label("tenant name"), tenantSchema)
      .describe("Customers by name: one isolated instance each."),
  })
  .describe("tenantry manifest: hosts, apps, plans and tenants.");

export type Manifest = z.output<typeof manifestSchema>;
export type Host = Manifest["hosts"][string];
export type NginxSettings = Host["nginx"];
export type App = Manifest["apps"][string];
export type Service = App["services"][string];
export type Plan = Manifest["plans"][string];
export type Tenant = Manifest["tenants"][string];

/** The JSON Schema editors use (draft-07, input side so defaults are optional). */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(manifestSchema, { target: "draft-7", io: "input" }),
    title: "tenantry manifest (tenants.yaml)",
  };
}
