// The SDK floors: registrations with no logic, as many as the program makes. "plain": that many
// bare CustomResources (BENCH_FLOOR_COUNT), with the SDK's defaults. "typed": the program's own
// resource classes, as many of each as it registered (BENCH_FLOOR_TYPES, type → count), with
// fixed minimal inputs, no parents and no dependencies, built as index.ts builds.
import "./startClock";
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { withoutPromiseStacks } from "../runtime/promiseStacks";

const component = (type: string) => (name: string) => new pulumi.ComponentResource(type, name);

/** One constructor per resource type the program registers. */
const TYPED: Record<string, (name: string) => pulumi.Resource> = {
  "tenantry:index:Host": component("tenantry:index:Host"),
  "tenantry:index:TenantInstance": component("tenantry:index:TenantInstance"),
  "pulumi:providers:docker": (name) => new docker.Provider(name),
  "pulumi:providers:command": (name) => new command.Provider(name),
  "pulumi:providers:random": (name) => new random.Provider(name),
  "pulumi:providers:cloudflare": (name) => new cloudflare.Provider(name),
  "docker:index/network:Network": (name) => new docker.Network(name),
  "docker:index/volume:Volume": (name) => new docker.Volume(name),
  "docker:index/container:Container": (name) => new docker.Container(name, { image: "img" }),
  "docker:index/remoteImage:RemoteImage": (name) => new docker.RemoteImage(name, { name: "img" }),
  "command:remote:Command": (name) =>
    new command.remote.Command(name, { connection: { host: "h" }, create: "true" }),
  "random:index/randomPassword:RandomPassword": (name) =>
    new random.RandomPassword(name, { length: 32 }),
  "random:index/randomId:RandomId": (name) => new random.RandomId(name, { byteLength: 3 }),
  "cloudflare:index/dnsRecord:DnsRecord": (name) =>
    new cloudflare.DnsRecord(name, { name: "a", ttl: 1, type: "A", zoneId: "z" }),
};

const types = JSON.parse(process.env.BENCH_FLOOR_TYPES ?? "{}") as Record<string, number>;
// Built as index.ts builds, so program and typed floor pay the SDK the same way.
withoutPromiseStacks(() => {
  for (const [type, count] of Object.entries(types)) {
    const make = TYPED[type];
    if (make === undefined) throw new Error(`typed floor: no constructor for ${type}`);
    for (let i = 0; i < count; i++) make(`typed-${i}`);
  }
});

/** A bare custom resource (the SDK's CustomResource class is abstract). */
class Plain extends pulumi.CustomResource {
  constructor(name: string, index: number) {
    super("bench:index:Plain", name, { index });
  }
}

const count = Number(process.env.BENCH_FLOOR_COUNT ?? "0");
for (let i = 0; i < count; i++) new Plain(`plain-${i}`, i);
