// Helpers for program tests: run the program offline in a child process and look up
// recorded resources.
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import type { OfflineRun, RecordedResource } from "../../cli/offline";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../..");

export interface ChildResult {
  readonly ok: boolean;
  readonly run?: OfflineRun;
  readonly stderr: string;
}

/** Evaluates the program on `manifest` in a fresh process. */
export async function evaluate(manifest: string, args: string[] = []): Promise<ChildResult> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [require.resolve("tsx/cli"), path.join(__dirname, "evaluate.ts"), manifest, ...args],
      { cwd: root, maxBuffer: 256 * 1024 * 1024 },
    );
    return { ok: true, run: JSON.parse(stdout) as OfflineRun, stderr };
  } catch (err) {
    const e = err as { stderr?: string };
    return { ok: false, stderr: e.stderr ?? String(err) };
  }
}

/** True when a recorded input value is a Pulumi secret (the SDK's wire encoding). */
export function isSecret(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
  );
}

/** The plain value inside a recorded input, secret or not. */
export function reveal(value: unknown): unknown {
  return isSecret(value) ? (value as { value: unknown }).value : value;
}

export function byType(resources: readonly RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type);
}

export function named(
  resources: readonly RecordedResource[],
  type: string,
  name: string,
): RecordedResource {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}

export const T = {
  host: "tenantry:index:Host",
  tenant: "tenantry:index:TenantInstance",
  network: "docker:index/network:Network",
  volume: "docker:index/volume:Volume",
  container: "docker:index/container:Container",
  image: "docker:index/remoteImage:RemoteImage",
  password: "random:index/randomPassword:RandomPassword",
  dns: "cloudflare:index/dnsRecord:DnsRecord",
  command: "command:remote:Command",
  dockerProvider: "pulumi:providers:docker",
  cloudflareProvider: "pulumi:providers:cloudflare",
} as const;
