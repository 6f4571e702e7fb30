// Valid manifests written the ways users write them (the invalid ones: badManifests.test.ts).
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";

const BASE = `hosts:
  vps1:
    address: 203.0.113.10
    user: deploy
    hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i
    memoryMb: 2048
apps:
  site:
    services:
      web: { image: ghcr.io/example/site:1.0.0, port: 8000, route: / }
plans:
  small: { memoryMb: 300, cpus: 0.5 }
`;

describe("manifest", () => {
  it("accepts YAML merge keys as Compose files use them; the entry's own keys win", () => {
    const text = `${BASE}tenants:
  acme: &customer
    app: site
    plan: small
    host: vps1
    slot: 1
    domain: acme.example.com
    env: { REGION: eu }
  beta:
    <<: *customer
    slot: 2
    domain: beta.example.com
`;
    const result = parseManifest(text, "merge.yaml");
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    expect(result.loaded.manifest.tenants.beta).toMatchObject({
      app: "site",
      plan: "small",
      host: "vps1",
      slot: 2,
      domain: "beta.example.com",
      env: { REGION: "eu" },
    });
  });
});
