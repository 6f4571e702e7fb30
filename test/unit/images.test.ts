// Image references as the Docker provider reads them, the image each tenant runs (waves), and
// what the stack must hold for a private registry.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import {
  DOCKER_HUB,
  imageRepository,
  providerRegistry,
  registryPasswordKey,
  tenantImage,
} from "../../core/images";
import { parseManifest, type LoadedManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";
import { missingStackConfig, stackFileConfig } from "../../manifest/stackConfig";
import { hostImages, hostRegistryAuth } from "../../plan/images";
import { planTenants } from "../../plan/tenant";
import { imageRemoveScript, imageRepullScript } from "../../remote/images";
import { describeWith } from "../support/prereq";

const example = readFileSync(path.resolve(__dirname, "../../tenants.yaml"), "utf8");

function load(edit: (d: ReturnType<typeof parseDocument>) => void): LoadedManifest {
  const doc = parseDocument(example);
  edit(doc);
  const result = parseManifest(String(doc), "tenants.yaml");
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.loaded;
}

describe("image references as the Docker provider reads them", () => {
  // kreuzwerker/terraform-provider-docker v4.5.0 parseImageOptions: the registry part is the
  // text before the first "/" when it has "." or ":", is "localhost", or the name has two "/".
  it.each([
    ["redis:7-alpine", DOCKER_HUB],
    ["example/app:1.0", DOCKER_HUB],
    ["ghcr.io/example/app:1.4.2", "ghcr.io"],
    ["registry.example.com:5000/app:1", "registry.example.com:5000"],
    ["localhost/app:1", "localhost"],
    ["docker.io/example/app:1", "docker.io"],
    ["org/team/app:1", "org"],
    [`ghcr.io/example/app@sha256:${"a".repeat(64)}`, "ghcr.io"],
  ])("%s is pulled with the credentials of %s", (ref, registry) => {
    expect(providerRegistry(ref)).toBe(registry);
  });

  it.each([
    ["ghcr.io/example/app:1.4.2", "ghcr.io/example/app"],
    ["registry.example.com:5000/app:1", "registry.example.com:5000/app"],
    ["registry.example.com:5000/app", "registry.example.com:5000/app"],
    [`redis@sha256:${"b".repeat(64)}`, "redis"],
    [`redis:7@sha256:${"b".repeat(64)}`, "redis"],
  ])("the repository of %s is %s", (ref, repo) => {
    expect(imageRepository(ref)).toBe(repo);
  });

  it("names the password's stack secret so Pulumi can parse the key (no second colon)", () => {
    expect(registryPasswordKey("ghcr.io")).toBe("registry.ghcr.io.password");
    expect(registryPasswordKey("localhost:5000")).toBe("registry.localhost_5000.password");
    expect(`tenantry:${registryPasswordKey("localhost:5000")}`.split(":")).toHaveLength(2);
  });
});

describe("the image a tenant runs", () => {
  const app = {
    services: { web: { image: "app:1.0" }, worker: { image: "worker:1.0" } },
    channels: { canary: { web: "app:1.1" } },
  };
  it.each([
    ["no channel, no pin: the app's", {}, "web", "app:1.0"],
    ["the channel's, for a service it names", { channel: "canary" }, "web", "app:1.1"],
    [
      "the app's, for a service the channel does not name",
      { channel: "canary" },
      "worker",
      "worker:1.0",
    ],
    [
      "its own pin over the channel's",
      { channel: "canary", images: { web: "app:0.9" } },
      "web",
      "app:0.9",
    ],
  ])("%s", (_what, tenant, service, image) => {
    expect(tenantImage(app, tenant, service)).toBe(image);
  });

  it("plans each tenant with its own image and pulls each once per host", () => {
    const loaded = load((d) => {
      d.setIn(["apps", "mcoder", "channels", "canary", "web"], "ghcr.io/example/mcoder:1.5.0");
      d.setIn(["tenants", "company2", "channel"], "canary");
    });
    const plans = planTenants(loaded.manifest);
    const image = (t: string) => plans.find((p) => p.name === t)!.services[0]!.image;
    expect(image("company2")).toBe("ghcr.io/example/mcoder:1.5.0");
    expect(image("markplus")).toBe("ghcr.io/example/mcoder:1.4.2");
    expect(hostImages(loaded.manifest, plans).map((i) => i.ref)).toEqual([
      "ghcr.io/example/frontbase-backend:2.3.0",
      "ghcr.io/example/frontbase-edge:2.3.0",
      "ghcr.io/example/frontbase-frontend:2.3.0",
      "ghcr.io/example/mcoder:1.4.2",
      "ghcr.io/example/mcoder:1.5.0",
      "redis:7-alpine",
    ]);
  });
});

describe("private registries", () => {
  const withRegistries = load((d) => {
    d.setIn(["registries", "ghcr.io", "username"], "deploy-bot");
    d.setIn(["registries", "docker.io", "username"], "hubuser");
  });
  const images = hostImages(withRegistries.manifest, planTenants(withRegistries.manifest));

  it("gives the host's Docker provider one entry per registry, under the name it looks up", () => {
    expect(hostRegistryAuth(images)).toEqual([
      {
        address: "ghcr.io",
        credentials: {
          registry: "ghcr.io",
          username: "deploy-bot",
          passwordKey: "registry.ghcr.io.password",
        },
      },
      {
        // redis:7-alpine has no registry part: the provider looks up registry-1.docker.io.
        address: "registry-1.docker.io",
        credentials: {
          registry: "docker.io",
          username: "hubuser",
          passwordKey: "registry.docker.io.password",
        },
      },
    ]);
  });

  it("names the exact pulumi config set for a missing password, and refuses one in plain text", () => {
    const stack = [
      "config:",
      "  tenantry:tenant.markplus.OPENAI_API_KEY: { secure: v1:x }",
      "  tenantry:tenant.company2.OPENAI_API_KEY: { secure: v1:x }",
      "  cloudflare:apiToken: { secure: v1:x }",
      "  tenantry:registry.docker.io.password: plain-text",
    ].join("\n");
    const problems = missingStackConfig(withRegistries, stackFileConfig(stack, "tenantry"));
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /^tenants\.yaml:\d+:\d+ registries\.ghcr\.io: stack config has no secret registry\.ghcr\.io\.password \(the password or access token of ghcr\.io\); set it with: pulumi config set --secret registry\.ghcr\.io\.password <password>$/,
      ),
      expect.stringMatching(
        /registries\.docker\.io: stack config holds registry\.docker\.io\.password in plain text .*pulumi config set --secret registry\.docker\.io\.password <value>$/,
      ),
    ]);
    const complete = `${stack.replace("plain-text", "{ secure: v1:y }")}\n  tenantry:registry.ghcr.io.password: { secure: v1:z }`;
    expect(missingStackConfig(withRegistries, stackFileConfig(complete, "tenantry"))).toEqual([]);
  });
});

describeWith("image scripts", ["shellcheck"], () => {
  const shellcheck = (text: string): string => {
    try {
      execFileSync("shellcheck", ["-s", "sh", "-"], { input: text, encoding: "utf8" });
      return "";
    } catch (error) {
      return (error as { stdout?: string }).stdout ?? String(error);
    }
  };
  it.each([
    ["re-pull", imageRepullScript("redis:7-alpine")],
    [
      "re-pull with a login",
      imageRepullScript("ghcr.io/example/app:1", { server: "ghcr.io", username: "bot" }),
    ],
    ["removal", imageRemoveScript("registry.example.com:5000/app@sha256:" + "c".repeat(64))],
  ])("%s passes shellcheck -s sh", (_name, script) => {
    expect(shellcheck(script.text)).toBe("");
  });

  it("keeps the password out of the re-pull's command text (it comes on stdin)", () => {
    const text = imageRepullScript("ghcr.io/example/app:1", {
      server: "ghcr.io",
      username: "bot",
    }).text;
    expect(text).toContain("IFS= read -r password");
    expect(text).toContain("--password-stdin ghcr.io");
    expect(text).toContain('rm -rf "$cfg"');
  });
});
