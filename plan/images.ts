// Pure: the images a host pulls for its tenants, with their re-pull tokens and the registry
// credentials the Docker provider and the re-pull step need.
import { canonicalRegistry, providerRegistry, registryPasswordKey } from "../core/images";
import type { Manifest } from "../manifest/schema";
import type { TenantPlan } from "./tenant";

/** A registry's credentials: the user from the manifest, the password's stack secret key. */
export interface RegistryCredentials {
  /** The `registries:` key as written (what `docker login` is given). */
  readonly registry: string;
  readonly username: string;
  /** `registry.<registry>.password` (core/images.ts registryPasswordKey). */
  readonly passwordKey: string;
}

export interface ImagePlan {
  readonly ref: string;
  /** Re-pull tokens of the services that run it on the host, sorted; empty: never re-pulled. */
  readonly repull: readonly string[];
  /** Credentials for its registry, when the manifest has them. */
  readonly credentials?: RegistryCredentials;
}

/** The manifest's credentials for the registry an image is pulled from, if any. */
export function credentialsFor(m: Manifest, ref: string): RegistryCredentials | undefined {
  const wanted = canonicalRegistry(providerRegistry(ref));
  for (const [registry, entry] of Object.entries(m.registries ?? {})) {
    if (canonicalRegistry(registry) === wanted) {
      return {
        registry,
        username: entry.username,
        passwordKey: registryPasswordKey(registry),
      };
    }
  }
  return undefined;
}

/** The host's images, sorted, one entry per reference however many tenants run it. */
export function hostImages(m: Manifest, onHost: readonly TenantPlan[]): ImagePlan[] {
  const tokens = new Map<string, Set<string>>();
  for (const plan of onHost) {
    for (const service of plan.services) {
      const set = tokens.get(service.image) ?? new Set<string>();
      if (service.repull !== undefined) set.add(service.repull);
      tokens.set(service.image, set);
    }
  }
  return [...tokens.keys()].sort().map((ref) => {
    const credentials = credentialsFor(m, ref);
    return {
      ref,
      repull: [...tokens.get(ref)!].sort(),
      ...(credentials === undefined ? {} : { credentials }),
    };
  });
}

/**
 * The Docker provider's `registryAuth` entries for a host: one per registry its images come
 * from that has credentials, under the address the provider looks them up by. The provider
 * keys each entry by the host part of `address` and `pullImage` reads the entry named by the
 * image's registry part (`registry-1.docker.io` for an image without one), nothing else:
 * kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/provider.go
 * providerSetToRegistryAuth, resource_docker_image_funcs.go pullImage/parseImageOptions. With
 * a username set, the provider never reads a Docker config file (the `config_file` default is
 * the last branch there), so the host's own `docker login` plays no part.
 */
export function hostRegistryAuth(
  images: readonly ImagePlan[],
): Array<{ address: string; credentials: RegistryCredentials }> {
  const byAddress = new Map<string, RegistryCredentials>();
  for (const image of images) {
    if (image.credentials !== undefined) {
      byAddress.set(providerRegistry(image.ref), image.credentials);
    }
  }
  return [...byAddress.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([address, credentials]) => ({ address, credentials }));
}
