// The offsite backup credentials a stack must hold (backup.<HOST>.<KEY>): the same keys for the
// program (plan/backup.ts offsiteSecretKeys) and for `tenantry validate --stack`.
import { describe, expect, it } from "vitest";
import { offsiteCredentials } from "../../core/offsite";
import { parseManifest } from "../../manifest/load";
import { missingStackConfig } from "../../manifest/stackConfig";
import { offsiteSecretKeys } from "../../plan/backup";

const MANIFEST = `tls: { mode: none }
hosts:
  vps1:
    address: 203.0.113.10
    user: deploy
    hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i
    memoryMb: 1024
    backup: { offsite: { url: "s3:https://s3.example.com/b" } }
  vps2:
    address: 203.0.113.11
    user: deploy
    hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9j
    memoryMb: 1024
    backup: { offsite: { url: "s3:https://s3.example.com/b" } }
apps:
  notes:
    services:
      web: { image: "nginx:1.27", port: 80, route: / }
plans:
  small: { memoryMb: 96, cpus: 0.5 }
tenants:
  acme: { app: notes, plan: small, host: vps1, slot: 1, domain: acme.example.org }
`;

function loaded() {
  const result = parseManifest(MANIFEST, "tenants.yaml");
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.loaded;
}

describe("offsite credentials", () => {
  it.each([
    ["s3:https://s3.example.com/b", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]],
    ["sftp:backup@203.0.113.20:/srv/t", ["sshKey"]],
  ])("%s needs %j", (url, envs) => {
    expect(offsiteCredentials("vps1", url).map((c) => [c.env, c.key])).toEqual(
      envs.map((env) => [env, `backup.vps1.${env}`]),
    );
  });

  it("are the keys the program reads", () => {
    const { manifest } = loaded();
    expect(offsiteSecretKeys(manifest, "vps1")).toEqual([
      { env: "AWS_ACCESS_KEY_ID", key: "backup.vps1.AWS_ACCESS_KEY_ID" },
      { env: "AWS_SECRET_ACCESS_KEY", key: "backup.vps1.AWS_SECRET_ACCESS_KEY" },
    ]);
  });

  it("are required only on a host with tenants (the program reads them per tenant)", () => {
    const problems = missingStackConfig(loaded(), {
      hasSecret: () => false,
      hasCloudflareToken: false,
    });
    expect(problems.map((p) => [p.path.join("."), p.message.split(" (")[0]])).toEqual([
      ["hosts.vps1.backup.offsite", "stack config has no secret backup.vps1.AWS_ACCESS_KEY_ID"],
      ["hosts.vps1.backup.offsite", "stack config has no secret backup.vps1.AWS_SECRET_ACCESS_KEY"],
    ]);
  });
});
