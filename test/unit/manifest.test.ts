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

/** BASE plus tenants, parsed; throws with every problem when invalid. */
function valid(text: string) {
  const result = parseManifest(text, "valid.yaml");
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.loaded.manifest;
}

const tenant = (name: string, slot: number, extra = "") =>
  `  ${name}:\n    app: site\n    plan: small\n    host: vps1\n    slot: ${slot}\n    domain: ${name}.example.com\n${extra}`;

describe("manifest, written the ways the hardening kept valid", () => {
  it("takes 150 uses of one anchor (the YAML library alone stopped at 100)", () => {
    const many = Array.from(
      { length: 150 },
      (_, i) =>
        `  t${i + 1}:\n    <<: *customer\n    slot: ${i + 2}\n    domain: t${i + 1}.example.com\n`,
    ).join("");
    const text = `${BASE.replace("memoryMb: 2048", "memoryMb: 65536")}tenants:\n  base: &customer\n    app: site\n    plan: small\n    host: vps1\n    slot: 1\n    domain: base.example.com\n${many}`;
    const m = valid(text);
    expect(Object.keys(m.tenants)).toHaveLength(151);
    expect(m.tenants.t150).toMatchObject({ app: "site", slot: 151 });
  });

  it("takes names that are JavaScript's own: a tenant called constructor is a tenant", () => {
    const m = valid(`${BASE}tenants:\n${tenant("constructor", 1)}${tenant("tostring", 2)}`);
    expect(Object.keys(m.tenants)).toEqual(["constructor", "tostring"]);
    // Maps hold only what the file says: no inherited "constructor" or "hasOwnProperty".
    const [constructorKey, hasOwnKey]: string[] = ["constructor", "hasOwnProperty"];
    expect(m.apps[constructorKey!]).toBeUndefined();
    expect(m.plans[hasOwnKey!]).toBeUndefined();
    expect("toString" in m.hosts).toBe(false);
  });

  it("takes an IPv6 host address, an apex allowed by zoneApex, digests and volumes below /etc", () => {
    const text = `${BASE.replace("address: 203.0.113.10", "address: 2001:db8::10")
      .replace("image: ghcr.io/example/site:1.0.0", "image: ghcr.io/example/site:latest")
      .replace(
        "route: / }",
        "route: / }\n      worker: { image: redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef, volumes: { conf: /etc/worker, data: /var/lib/worker } }",
      )
      .replace(
        "route: / }",
        "route: /, portOffset: 0 }",
      )}dns:\n  zones:\n    acme.io: 0123456789abcdef0123456789abcdef\ntenants:\n${tenant("acme", 1, "    aliases: [acme.io]\n    zoneApex: true\n")}`;
    const m = valid(text);
    expect(m.hosts.vps1!.address).toBe("2001:db8::10");
    expect(m.tenants.acme!.zoneApex).toBe(true);
    expect(m.apps.site!.services.worker!.volumes).toEqual({
      conf: "/etc/worker",
      data: "/var/lib/worker",
    });
  });

  it("takes a retired slot that no tenant uses, and the retired name on another host", () => {
    const vps2 = `  vps2:\n    address: 203.0.113.11\n    user: deploy\n    hostKey: ${/hostKey: (.*)/.exec(BASE)![1]}\n    memoryMb: 2048\n`;
    const text = BASE.replace(
      "    memoryMb: 2048\n",
      `    memoryMb: 2048\n    retired: { oldco: 2 }\n${vps2}`,
    );
    const m = valid(
      `${text}tenants:\n${tenant("acme", 1)}${tenant("oldco", 1).replace("host: vps1", "host: vps2")}${tenant("beta", 3)}`,
    );
    expect(m.hosts.vps1!.retired).toEqual({ oldco: 2 });
    expect(m.tenants.oldco!.host).toBe("vps2");
  });
});
