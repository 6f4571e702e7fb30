// The program's images under mocks: a private registry's password reaches the host's Docker
// provider and the re-pull step only as a Pulumi secret; a re-pull token runs the pull before
// the image is read again; every image has the step that removes it once unused.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { OFFLINE_SECRET, type OfflineRun, type RecordedResource } from "../../cli/offline";
import { byType, evaluate, isSecret, named, reveal, T } from "./helpers";

const example = readFileSync(path.resolve(__dirname, "../../tenants.yaml"), "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "tenantry-images-"));

function manifest(edit: (d: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(example);
  edit(doc);
  const file = path.join(dir, `m${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, String(doc));
  return file;
}

const privateRegistry = manifest((d) => {
  d.setIn(["registries", "ghcr.io", "username"], "deploy-bot");
  d.setIn(["apps", "mcoder", "services", "web", "repull"], "2026-11-30");
});

/** Every value of a recorded input that is not inside a secret wrapper, as JSON text. */
function plainText(value: unknown): string {
  const strip = (v: unknown): unknown => {
    if (isSecret(v)) return "[secret]";
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return JSON.stringify(strip(value));
}

describe("images and private registries under mocks", () => {
  let run: OfflineRun;
  let resources: RecordedResource[];

  beforeAll(async () => {
    const result = await evaluate(privateRegistry);
    if (!result.ok) throw new Error(result.stderr);
    run = result.run!;
    resources = run.resources;
  }, 120_000);

  it("gives the host's Docker provider the registry's credentials, the whole entry a secret", () => {
    const provider = byType(resources, T.dockerProvider)[0]!;
    expect(isSecret(provider.inputs.registryAuth)).toBe(true);
    // Provider inputs reach the provider as strings (lists JSON-encoded).
    expect(JSON.parse(reveal(provider.inputs.registryAuth) as string)).toEqual([
      { address: "ghcr.io", username: "deploy-bot", password: OFFLINE_SECRET },
    ]);
  });

  it("never has the password in a plain input, a command text or a stack output", () => {
    for (const r of resources) {
      expect(plainText(r.inputs), `${r.type} ${r.name}`).not.toContain(OFFLINE_SECRET);
    }
    expect(JSON.stringify(run.outputs)).not.toContain(OFFLINE_SECRET);
  });

  it("re-pulls the tag with the password on stdin, then reads the image again", () => {
    const slug = "ghcr-io-example-mcoder-1-4-2-773318c0";
    const repull = named(resources, T.command, `vps1-repull-${slug}`);
    expect(reveal(repull.inputs.triggers)).toEqual(["2026-11-30"]);
    expect(isSecret(repull.inputs.stdin)).toBe(true);
    expect(reveal(repull.inputs.stdin)).toBe(`${OFFLINE_SECRET}\n`);
    expect(repull.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    const create = reveal(repull.inputs.create) as string;
    expect(create).toContain("docker login --username deploy-bot --password-stdin ghcr.io");
    expect(create).toContain("docker pull --quiet ghcr.io/example/mcoder:1.4.2");
    const image = named(resources, T.image, `vps1-image-${slug}`);
    expect(image.inputs).toEqual({
      name: "ghcr.io/example/mcoder:1.4.2",
      keepLocally: true,
      pullTriggers: ["2026-11-30"],
    });
    expect(image.dependencies).toContain(repull.urn);
    // An image without a token has no re-pull step and no trigger.
    const redis = named(resources, T.image, "vps1-image-redis-7-alpine-65b8118d");
    expect(redis.inputs).toEqual({ name: "redis:7-alpine", keepLocally: true });
    expect(resources.some((r) => r.name === "vps1-repull-redis-7-alpine-65b8118d")).toBe(false);
  });

  it("has one cleanup step per image, which every container of that image depends on", () => {
    // The mocks give each image the id sha256(type:name) (cli/offline.ts mockState).
    const idOf = (image: RecordedResource) =>
      `sha256:${createHash("sha256").update(`${T.image}:${image.name}`).digest("hex")}`;
    const images = byType(resources, T.image);
    expect(images.length).toBeGreaterThan(1);
    for (const image of images) {
      const ref = image.inputs.name as string;
      const cleanup = named(resources, T.command, image.name.replace("-image-", "-image-cleanup-"));
      expect(cleanup.inputs.create).toBeUndefined();
      expect(reveal(cleanup.inputs.delete)).toContain(`docker image rm ${ref} `);
      const users = byType(resources, T.container).filter((c) => c.inputs.image === idOf(image));
      expect(users.length, ref).toBeGreaterThan(0);
      for (const c of users) expect(c.dependencies, c.name).toContain(cleanup.urn);
    }
  });

  it("refuses to run without the registry's password, naming the command that sets it", async () => {
    const result = await evaluate(privateRegistry, ["--no-secrets"]);
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(
      "registries.ghcr.io: stack config has no secret registry.ghcr.io.password (the password or access token of ghcr.io); set it with: pulumi config set --secret registry.ghcr.io.password <password>",
    );
  });
});
