// Runs the Pulumi program in-process under mocks: no engine, no providers, no credentials.
// `tenantry plan`, the program tests and the benchmark all evaluate index.ts this way.
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadManifest } from "../manifest/load";
import type { Manifest } from "../manifest/schema";
import { registryPasswordKey } from "../core/images";
import { configSecretKey } from "../core/names";

/** One resource the program registered, with the inputs and options it passed. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Parent URN; "" for top-level resources. */
  readonly parent: string;
  /** Inputs as the engine receives them (secrets keep their secret wrapper). */
  readonly inputs: Record<string, unknown>;
  /** Provider reference (`urn::id`) for custom resources; "" for default providers. */
  readonly provider: string;
  readonly custom: boolean;
  readonly dependencies: readonly string[];
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
  /**
   * Whether the program set `deleteBeforeReplace` at all: the engine lets an explicit option,
   * true or false, override the provider's choice (pulumi/pulumi
   * pkg/resource/deploy/source_eval.go RegisterResource; step_generator.go continueStepsFromDiff).
   */
  readonly deleteBeforeReplaceDefined: boolean;
  /**
   * The aliases as the SDK sends them (specs under mocks: the engine resolves them to URNs,
   * pulumi/pulumi pkg/resource/deploy/step_generator.go collapseAliasToUrn).
   */
  readonly aliases?: readonly RecordedAlias[];
  /** Inputs whose change the engine turns into a replacement (`replaceOnChanges`). */
  readonly replaceOnChanges: readonly string[];
  /**
   * The `replacementTrigger` option: the engine replaces the resource when it differs from the
   * value recorded at the last update (null/absent on either side: no trigger). pulumi/pulumi
   * pkg/resource/deploy/step_generator.go shouldTriggerReplace.
   */
  readonly replacementTrigger?: unknown;
  readonly protect: boolean;
  readonly additionalSecretOutputs: readonly string[];
  /** Where the program constructed it (`file:///...:line`), as Pulumi shows it; "" if none. */
  readonly sourcePosition: string;
}

/** One alias: a URN, or a spec whose empty fields mean "as the resource is now". */
export interface RecordedAlias {
  readonly urn?: string;
  readonly name?: string;
  readonly type?: string;
  readonly stack?: string;
  readonly project?: string;
  readonly parentUrn?: string;
  readonly noParent?: boolean;
}

interface AliasMessage {
  getUrn(): string;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}

function recordedAlias(a: AliasMessage): RecordedAlias {
  const spec = a.getSpec();
  if (spec === undefined) return { urn: a.getUrn() };
  const fields = {
    name: spec.getName(),
    type: spec.getType(),
    stack: spec.getStack(),
    project: spec.getProject(),
    parentUrn: spec.getParenturn(),
  };
  return {
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== "")),
    ...(spec.getNoparent() ? { noParent: true } : {}),
  };
}

/** The parts of a RegisterResourceRequest the runner reads (generated protobuf accessors). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
  getProvider(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getAliasesList(): AliasMessage[];
  getReplaceonchangesList(): string[];
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
  getProtect(): boolean;
  getAdditionalsecretoutputsList(): string[];
  getSourceposition(): { getUri(): string; getLine(): number } | undefined;
}
type Callback = (err: unknown, response?: { getUrn(): string }) => void;

export interface OfflineRun {
  readonly resources: RecordedResource[];
  /** The program's exports (stack outputs). */
  readonly outputs: Record<string, unknown>;
}

/** The program failed; `registered` says how many resources existed by then. */
export class OfflineFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly registered: number,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "OfflineFailure";
  }
}

/** Placeholder for a secret the stack config would hold; never a real value. */
export const OFFLINE_SECRET = "offline-placeholder-not-a-secret";

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

/** The placeholder a RandomPassword named `name` gets under mocks (tests undo renames with it). */
export function mockPasswordResult(name: string): string {
  const digest = createHash("sha256").update(`${RANDOM_PASSWORD}:${name}`).digest("hex");
  return `mock${digest.slice(0, 28)}`;
}

/** Computed outputs the program reads, as the real providers would return them. */
function mockState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const digest = createHash("sha256").update(`${type}:${name}`).digest("hex");
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { ...inputs, result: mockPasswordResult(name) };
    case "random:index/randomId:RandomId": {
      // A new value whenever the keepers change, as a replaced RandomId gets (pulumi-random).
      const kept = createHash("sha256")
        .update(`${type}:${name}:${JSON.stringify(inputs.keepers ?? null)}`)
        .digest("hex");
      return { ...inputs, hex: kept.slice(0, 2 * Number(inputs.byteLength ?? 8)) };
    }
    case "docker:index/remoteImage:RemoteImage":
      return {
        ...inputs,
        imageId: `sha256:${digest}`,
        repoDigest: `${String(inputs.name)}@sha256:${digest}`,
      };
    case "docker:index/network:Network":
    case "docker:index/volume:Volume":
      return { ...inputs, name: inputs.name ?? name };
    case "command:remote:Command":
      return { ...inputs, stdout: "", stderr: "" };
    default:
      return { ...inputs };
  }
}

export interface OfflineOptions {
  /** Manifest to evaluate (default tenants.yaml in the working directory). */
  readonly tenantsFile?: string;
  /** Extra stack config, e.g. to omit a secret in tests. Keys are full (`tenantry:x`). */
  readonly config?: Record<string, string>;
  /** Fill every secretEnv key and the Cloudflare token with placeholders (default true). */
  readonly fillSecrets?: boolean;
  /** The manifest at `tenantsFile`, when the caller has loaded it already (not parsed again). */
  readonly manifest?: Manifest;
  /** The program module to import (default ../index). */
  readonly program?: string;
}

/**
 * Evaluates the program once in this process. Pulumi's runtime is process-global, so call it
 * once per process (vitest runs each test file in its own worker).
 */
export async function runOffline(options: OfflineOptions = {}): Promise<OfflineRun> {
  const tenantsFile = path.resolve(options.tenantsFile ?? "tenants.yaml");
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Record<string, unknown>;
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, inputs) };
      },
      call(args) {
        return args.inputs as Record<string, unknown>;
      },
    },
    "tenantry",
    "offline",
    true,
  );

  const resources = recordRegistrations();

  let program: Record<string, unknown>;
  try {
    setOfflineConfig(tenantsFile, options);
    program = (await import(options.program ?? "../index")) as Record<string, unknown>;
  } catch (err) {
    await pulumi.runtime.disconnect();
    throw new OfflineFailure(err, resources.length);
  }
  // Registrations resolve asynchronously; wait until the runtime has no RPC in flight.
  await pulumi.runtime.disconnect();
  const seen = new Set<string>();
  for (const r of resources) {
    // The real engine refuses two resources with one URN; the mock monitor would not notice.
    if (seen.has(r.urn)) throw new Error(`two resources share the URN ${r.urn}`);
    seen.add(r.urn);
  }
  return { resources, outputs: { ...program } };
}

/** Stack config as `pulumi config set` would hold it; throws ManifestError on a bad manifest. */
function setOfflineConfig(tenantsFile: string, options: OfflineOptions): void {
  const config: Record<string, string> = { "tenantry:tenantsFile": tenantsFile };
  const secretKeys: string[] = [];
  if (options.fillSecrets ?? true) {
    config["tenantry:sshPrivateKey"] = OFFLINE_SECRET;
    config["cloudflare:apiToken"] = OFFLINE_SECRET;
    config["tenantry:acmeDnsToken"] = OFFLINE_SECRET;
    secretKeys.push("tenantry:sshPrivateKey", "cloudflare:apiToken", "tenantry:acmeDnsToken");
    const manifest = options.manifest ?? loadManifest(tenantsFile).manifest;
    for (const registry of Object.keys(manifest.registries ?? {})) {
      const full = `tenantry:${registryPasswordKey(registry)}`;
      config[full] = OFFLINE_SECRET;
      secretKeys.push(full);
    }
    for (const [tenant, entry] of Object.entries(manifest.tenants)) {
      for (const key of entry.secretEnv) {
        const full = `tenantry:${configSecretKey(tenant, key)}`;
        config[full] = OFFLINE_SECRET;
        secretKeys.push(full);
      }
    }
  }
  Object.assign(config, options.config ?? {});
  pulumi.runtime.setAllConfig(config, secretKeys);
}

function replacementTrigger(req: RegisterRequest): { replacementTrigger?: unknown } {
  const value = req.getReplacementTrigger()?.toJavaScript();
  return value === undefined || value === null ? {} : { replacementTrigger: value };
}

function sourcePosition(req: RegisterRequest): string {
  const pos = req.getSourceposition();
  return pos === undefined ? "" : `${pos.getUri()}:${pos.getLine()}`;
}

/**
 * Wraps the mock monitor so every registration is recorded with its options (parent,
 * provider, retainOnDelete...), which the mocks' `newResource` does not see.
 */
function recordRegistrations(): RecordedResource[] {
  const resources: RecordedResource[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: Callback): Promise<void>;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) =>
    register(req, (err, response) => {
      if (!err && response) {
        resources.push({
          type: req.getType(),
          name: req.getName(),
          urn: response.getUrn(),
          parent: req.getParent(),
          inputs: pulumi.runtime.deserializeProperties(req.getObject(), true),
          provider: req.getProvider(),
          custom: req.getCustom(),
          dependencies: req.getDependenciesList(),
          retainOnDelete: req.getRetainondelete(),
          deleteBeforeReplace: req.getDeletebeforereplace(),
          deleteBeforeReplaceDefined: req.getDeletebeforereplacedefined(),
          aliases: req.getAliasesList().map(recordedAlias),
          replaceOnChanges: req.getReplaceonchangesList(),
          ...replacementTrigger(req),
          protect: req.getProtect(),
          additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
          sourcePosition: sourcePosition(req),
        });
      }
      callback(err, response);
    });
  return resources;
}
