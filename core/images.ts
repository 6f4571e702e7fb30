// Pure: what an image reference means to the Docker provider and to tenantry: its repository,
// the registry the provider looks credentials up under, and the image each tenant runs (the
// app's pin, its channel's, or its own). Validation and planning both use these.

/** The Docker Hub as the provider names it when an image has no registry part. */
export const DOCKER_HUB = "registry-1.docker.io";
/** Names that all mean the Docker Hub in a `registries:` key or an image's registry part. */
const DOCKER_HUB_NAMES = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/** `ghcr.io/example/app:1.4.2@sha256:…` → `ghcr.io/example/app` (tag and digest cut). */
export function imageRepository(ref: string): string {
  const name = ref.split("@")[0]!;
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  return colon > slash ? name.slice(0, colon) : name;
}

/**
 * The registry the Docker provider looks an image's credentials up under, as its
 * `parseImageOptions` computes it (kreuzwerker/terraform-provider-docker v4.5.0
 * internal/provider/resource_docker_image_funcs.go): the part before the first "/" when the
 * reference has two "/" or that part holds "." or ":" or is "localhost"; otherwise the Docker
 * Hub, `registry-1.docker.io`. `pullImage` then takes `AuthConfigs[that]`, and nothing else.
 */
export function providerRegistry(ref: string): string {
  const firstSlash = ref.indexOf("/");
  if (firstSlash === -1) return DOCKER_HUB;
  const head = ref.slice(0, firstSlash);
  const isRegistry = ref.split("/").length - 1 > 1 || /[.:]/.test(head) || head === "localhost";
  return isRegistry ? head : DOCKER_HUB;
}

/** A `registries:` key or registry name, with the Docker Hub's names made one. */
export function canonicalRegistry(name: string): string {
  const lower = name.toLowerCase();
  return DOCKER_HUB_NAMES.includes(lower) ? DOCKER_HUB : lower;
}

/**
 * The stack secret holding a registry's password: `registry.ghcr.io.password`. Pulumi refuses
 * a second ":" in a config key (pulumi/pulumi sdk/go/common/resource/config/key.go ParseKey),
 * so a registry port is written with "_" (`registry.localhost_5000.password`); "_" is never
 * part of a host name, so no two registries share a key.
 */
export function registryPasswordKey(registry: string): string {
  return `registry.${registry.replace(":", "_")}.password`;
}

/** What the image rules read of an app and a tenant (the manifest's own types fit). */
export interface ImageSources {
  readonly services: Readonly<Record<string, { readonly image: string }>>;
  readonly channels?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}
export interface TenantImages {
  readonly channel?: string;
  readonly images?: Readonly<Record<string, string>>;
}

/**
 * The image a tenant runs for a service: its own pin (`tenants.<t>.images.<svc>`), else its
 * channel's (`apps.<app>.channels.<channel>.<svc>`), else the app's (`services.<svc>.image`).
 * A wave is an edit of one of these: only the tenants that read it change.
 */
export function tenantImage(app: ImageSources, tenant: TenantImages, service: string): string {
  const own = tenant.images?.[service];
  if (own !== undefined) return own;
  const channel =
    tenant.channel === undefined ? undefined : app.channels?.[tenant.channel]?.[service];
  return channel ?? app.services[service]!.image;
}

/** Where a tenant's image for a service comes from, for messages and `tenantry list`. */
export function tenantImageSource(
  app: ImageSources,
  tenant: TenantImages,
  service: string,
): "tenant" | "channel" | "app" {
  if (tenant.images?.[service] !== undefined) return "tenant";
  if (tenant.channel !== undefined && app.channels?.[tenant.channel]?.[service] !== undefined) {
    return "channel";
  }
  return "app";
}
