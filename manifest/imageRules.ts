// Rules on the images tenants run: upgrade waves (channels and per-tenant pins stay on the
// app's repository and name what exists) and private registries (each entry is one an image
// is pulled from). Pure: manifest in, problems out.
import {
  canonicalRegistry,
  DOCKER_HUB,
  imageRepository,
  providerRegistry,
  tenantImage,
  tenantImageSource,
} from "../core/images";
import { didYouMean, listChoices, type Problem } from "./problems";
import type { App, Manifest } from "./schema";

export function checkImageRules(m: Manifest): Problem[] {
  return [...checkChannels(m), ...checkTenantImages(m), ...checkRegistries(m)];
}

/**
 * A wave changes the version a tenant runs, not what it runs: another repository would be
 * another app under the same service name (its volumes and env were made for this one).
 */
function repositoryProblem(app: App, service: string, ref: string): string | undefined {
  const pinned = app.services[service]!.image;
  const want = imageRepository(pinned);
  if (imageRepository(ref) === want) return undefined;
  return `"${ref}" is not from the service's repository ${want} (its image is ${pinned}): a wave changes the tag or digest, not the repository; to move every tenant to another repository, change services.${service}.image`;
}

function unknownService(app: App, appName: string, service: string): string {
  const services = Object.keys(app.services);
  return `app "${appName}" has no service "${service}"${didYouMean(service, services)}; its services are ${listChoices(services)}`;
}

function checkChannels(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [appName, app] of Object.entries(m.apps)) {
    for (const [channel, images] of Object.entries(app.channels ?? {})) {
      for (const [service, ref] of Object.entries(images)) {
        const at = ["apps", appName, "channels", channel, service];
        if (app.services[service] === undefined) {
          problems.push({ path: at, at: "key", message: unknownService(app, appName, service) });
          continue;
        }
        const message = repositoryProblem(app, service, ref);
        if (message !== undefined) problems.push({ path: at, message });
      }
    }
  }
  return problems;
}

function checkTenantImages(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [tenantName, tenant] of Object.entries(m.tenants)) {
    const app = m.apps[tenant.app];
    if (app === undefined) continue; // reported as an unknown app
    if (tenant.channel !== undefined && app.channels?.[tenant.channel] === undefined) {
      const channels = Object.keys(app.channels ?? {});
      problems.push({
        path: ["tenants", tenantName, "channel"],
        message:
          `app "${tenant.app}" has no channel "${tenant.channel}"${didYouMean(tenant.channel, channels)}; ` +
          (channels.length > 0
            ? `its channels are ${listChoices(channels)}`
            : `define it under apps.${tenant.app}.channels, e.g. ${tenant.channel}: { ${Object.keys(app.services)[0]}: ${app.services[Object.keys(app.services)[0]!]!.image} }`),
      });
    }
    for (const [service, ref] of Object.entries(tenant.images ?? {})) {
      const at = ["tenants", tenantName, "images", service];
      if (app.services[service] === undefined) {
        problems.push({ path: at, at: "key", message: unknownService(app, tenant.app, service) });
        continue;
      }
      const message = repositoryProblem(app, service, ref);
      if (message !== undefined) problems.push({ path: at, message });
    }
  }
  return problems;
}

/** Every image the manifest can pull: apps' pins, channels' and tenants' own. */
function allImages(m: Manifest): string[] {
  const images: string[] = [];
  for (const app of Object.values(m.apps)) {
    for (const svc of Object.values(app.services)) images.push(svc.image);
    for (const channel of Object.values(app.channels ?? {})) images.push(...Object.values(channel));
  }
  for (const tenant of Object.values(m.tenants)) images.push(...Object.values(tenant.images ?? {}));
  return images;
}

/**
 * A `registries:` entry no image comes from is most likely a misspelt registry (the pull would
 * then run without credentials and fail with the registry's "unauthorized").
 */
function checkRegistries(m: Manifest): Problem[] {
  const used = new Set(allImages(m).map((ref) => canonicalRegistry(providerRegistry(ref))));
  const problems: Problem[] = [];
  for (const registry of Object.keys(m.registries ?? {})) {
    if (used.has(canonicalRegistry(registry))) continue;
    // As a user writes them: "docker.io" for images without a registry part.
    const names = [
      ...new Set(allImages(m).map((ref) => providerRegistry(ref).replace(DOCKER_HUB, "docker.io"))),
    ].sort();
    problems.push({
      path: ["registries", registry],
      at: "key",
      message: `no image is pulled from "${registry}"${didYouMean(registry, names)}; images here come from ${listChoices(names)}; remove the entry or fix the name`,
    });
  }
  return problems;
}

/** Per tenant and service, the image it runs and where that is written, for other rules. */
export function tenantImagePaths(
  m: Manifest,
): Array<{ tenant: string; service: string; image: string; path: (string | number)[] }> {
  const out: Array<{ tenant: string; service: string; image: string; path: (string | number)[] }> =
    [];
  for (const [tenantName, tenant] of Object.entries(m.tenants)) {
    const app = m.apps[tenant.app];
    if (app === undefined) continue;
    for (const service of Object.keys(app.services)) {
      const source = tenantImageSource(app, tenant, service);
      const path =
        source === "tenant"
          ? ["tenants", tenantName, "images", service]
          : source === "channel"
            ? ["apps", tenant.app, "channels", tenant.channel!, service]
            : ["apps", tenant.app, "services", service, "image"];
      out.push({ tenant: tenantName, service, image: tenantImage(app, tenant, service), path });
    }
  }
  return out;
}
