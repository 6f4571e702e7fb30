// A test oracle, not an engine: what the real providers and the Pulumi engine do with the inputs
// this program sends. The mocks echo inputs back as state, so they cannot show a value the
// provider reads back differently (a diff on every `up`) or which edits replace a resource.
// Each rule cites its source (read with the search tool; no engine or provider runs here):
//   P = kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/ (bridged by @pulumi/docker)
//   D = pulumi/pulumi-docker provider/resources.go;  B = pulumi/pulumi-terraform-bridge pkg/tfbridge
//   C = cloudflare/terraform-provider-cloudflare v5 internal/services/dns_record/
//   M = pulumi/pulumi-command v1.2.1 provider/pkg/provider/remote/
//   R = pulumi/pulumi-random (bridged terraform-provider-random)
//   E = pulumi/pulumi v3.248.0 pkg/resource/deploy/
import { providerCpus } from "../../core/dockerValues";
import type { RecordedResource } from "../../cli/offline";
import { reveal } from "../program/helpers";

export type Effect = "replace" | "update" | "none";

interface TypeRule {
  /** What a change of each input does; an input missing here is an error (model it first). */
  readonly inputs: Readonly<Record<string, Effect>>;
  /** Inputs compared as sets (B: SDKv2 sets compare by hash, order is no diff). */
  readonly sets?: readonly string[];
  /** The provider's own delete-before-replace (overridden by the resource option, E). */
  readonly deleteBeforeReplace: boolean;
  /** The state the provider writes after a create: what it reads back from the daemon. */
  readBack?(inputs: Record<string, unknown>, host: HostFacts): Record<string, unknown>;
}

export interface HostFacts {
  /** Docker reports MemorySwap -1 on hosts without swap limit support. */
  readonly swapAccounting: boolean;
}

const CONTAINER: TypeRule = {
  // P resource_docker_container.go: every input ForceNew except those resourceDockerContainerUpdate
  // handles (restart, memory, memory_swap, cpu_shares...); healthcheck is neither ForceNew nor in
  // Update's list: a change is recorded in state and never reaches the container (a no-op).
  inputs: {
    name: "replace",
    image: "replace",
    restart: "update",
    memory: "update",
    memorySwap: "update",
    cpus: "replace",
    envs: "replace",
    command: "replace",
    networksAdvanced: "replace",
    ports: "replace",
    volumes: "replace",
    healthcheck: "none",
    labels: "replace",
    logDriver: "replace",
    logOpts: "replace",
    // P: wait and wait_timeout are plain Optional (no ForceNew); only Create reads them (the
    // health poll after ContainerStart), so a change is an in-place update of the state.
    wait: "update",
    waitTimeout: "update",
    // P: start and must_run Optional, not ForceNew (see suspendedInputs in the component).
    start: "update",
    mustRun: "update",
  },
  sets: ["envs", "labels", "volumes", "networksAdvanced"],
  // D: "docker_container": {DeleteBeforeReplace: true}.
  deleteBeforeReplace: true,
  readBack(inputs, host) {
    const state = { ...inputs };
    // P resourceDockerContainerRead: cpus from NanoCPUs through nanoInt64ToDecimalString.
    if (typeof state.cpus === "string") state.cpus = providerCpus(Number(state.cpus));
    // moby daemon_unix.go verifyPlatformContainerResources: MemorySwap -1 without swap limits;
    // P Read: `memory_swap` = raw value when not > 0.
    if (!host.swapAccounting && state.memorySwap !== undefined) state.memorySwap = -1;
    return state;
  },
};

const NETWORK: TypeRule = {
  // P resource_docker_network.go has no UpdateContext: every input is ForceNew.
  inputs: { name: "replace", driver: "replace", labels: "replace" },
  sets: ["labels"],
  // B SetAutonaming + nameRequiresDeleteBeforeReplace: a user-given `name` makes the bridge
  // delete before replacing, as for every auto-namable resource the program names.
  deleteBeforeReplace: true,
};

const VOLUME: TypeRule = {
  // P resource_docker_volume.go: name and labels ForceNew.
  inputs: { name: "replace", labels: "replace" },
  sets: ["labels"],
  deleteBeforeReplace: true, // as NETWORK
};

const REMOTE_IMAGE: TypeRule = {
  // P resource_docker_image.go: name and pull_triggers ForceNew; keep_locally updates state
  // only. (A replacement finds a local image without pulling: findImage in
  // resource_docker_image_funcs.go; the re-pull is the program's own step.)
  inputs: { name: "replace", keepLocally: "update", pullTriggers: "replace" },
  sets: ["pullTriggers"],
  // D gives RemoteImage an explicit Fields["name"], so no autonaming and no DBR.
  deleteBeforeReplace: false,
};

const REMOTE_COMMAND: TypeRule = {
  // M: triggers and connection replace; any other change runs `update` (or, without it, `create`
  // again). The delete of a replaced command runs with its old inputs.
  inputs: {
    connection: "replace",
    triggers: "replace",
    create: "update",
    delete: "update",
    stdin: "update",
    addPreviousOutputInEnv: "update",
  },
  deleteBeforeReplace: false,
};

const RANDOM_PASSWORD: TypeRule = {
  // R: every argument of random_password is ForceNew (a new value).
  inputs: { length: "replace", special: "replace" },
  deleteBeforeReplace: false,
};

const RANDOM_ID: TypeRule = {
  // R (@pulumi/random randomId.d.ts): keepers are "values that, when changed, will trigger
  // recreation of resource", the documented way to a new unique name for a resource replaced
  // create-first; every argument of random_id is ForceNew. A replacement is a new value (the
  // mocks give one per keepers value, cli/offline.ts mockState).
  inputs: { byteLength: "replace", keepers: "replace" },
  deleteBeforeReplace: false,
};

const DNS_RECORD: TypeRule = {
  // C schema.go: RequiresReplace on zone_id and type only.
  inputs: {
    zoneId: "replace",
    type: "replace",
    name: "update",
    content: "update",
    ttl: "update",
    proxied: "update",
    comment: "update",
  },
  deleteBeforeReplace: false,
};

export const RULES: Readonly<Record<string, TypeRule>> = {
  "docker:index/container:Container": CONTAINER,
  "docker:index/network:Network": NETWORK,
  "docker:index/volume:Volume": VOLUME,
  "docker:index/remoteImage:RemoteImage": REMOTE_IMAGE,
  "command:remote:Command": REMOTE_COMMAND,
  "random:index/randomPassword:RandomPassword": RANDOM_PASSWORD,
  "random:index/randomId:RandomId": RANDOM_ID,
  "cloudflare:index/dnsRecord:DnsRecord": DNS_RECORD,
};

export interface ModelState {
  readonly urn: string;
  readonly type: string;
  readonly inputs: Record<string, unknown>;
  /** The provider reference and the replacementTrigger the engine recorded. */
  readonly provider?: string;
  readonly replacementTrigger?: unknown;
}

/** What a first `pulumi up` leaves in state: each resource as its provider read it back. */
export function stateAfterUp(
  resources: readonly RecordedResource[],
  host: HostFacts = { swapAccounting: true },
): Map<string, ModelState> {
  const state = new Map<string, ModelState>();
  for (const r of resources.filter((x) => x.custom && RULES[x.type] !== undefined)) {
    const rule = RULES[r.type]!;
    const plain = plainInputs(r);
    state.set(r.urn, {
      urn: r.urn,
      type: r.type,
      inputs: rule.readBack ? rule.readBack(plain, host) : plain,
      provider: r.provider,
      ...(r.replacementTrigger === undefined ? {} : { replacementTrigger: r.replacementTrigger }),
    });
  }
  return state;
}

export type Step =
  | { readonly op: "create" | "delete"; readonly urn: string }
  | { readonly op: "update"; readonly urn: string; readonly keys: readonly string[] }
  | {
      readonly op: "replace";
      readonly urn: string;
      readonly keys: readonly string[];
      /** Stop-first (the old one goes before the new one exists), or create-first. */
      readonly order: "delete-first" | "create-first";
    };

/** The steps a `pulumi up` of `next` would take from `state` (no refresh). */
export function plan(
  state: ReadonlyMap<string, ModelState>,
  next: readonly RecordedResource[],
): Step[] {
  const steps: Step[] = [];
  const seen = new Set<string>();
  for (const r of next.filter((x) => x.custom && RULES[x.type] !== undefined)) {
    seen.add(r.urn);
    const old = state.get(r.urn);
    if (old === undefined) {
      steps.push({ op: "create", urn: r.urn });
      continue;
    }
    const rule = RULES[r.type]!;
    const inputs = plainInputs(r);
    // E step_generator.go shouldTriggerReplace: a trigger that differs from the recorded one
    // replaces; a null on either side (none recorded yet, or none sent) does not.
    if (
      old.replacementTrigger !== undefined &&
      r.replacementTrigger !== undefined &&
      JSON.stringify(old.replacementTrigger) !== JSON.stringify(r.replacementTrigger)
    ) {
      const dbr = r.deleteBeforeReplaceDefined ? r.deleteBeforeReplace : rule.deleteBeforeReplace;
      steps.push({
        op: "replace",
        urn: r.urn,
        keys: ["replacementTrigger"],
        order: dbr ? "delete-first" : "create-first",
      });
      continue;
    }
    // E step_generator.go providerChanged: another provider only replaces when its DiffConfig
    // says so, which the bridged providers here never do (D resources.go: no config key is
    // ForcesProviderReplace; B provider.go configDiffer). Otherwise the inputs alone are diffed.
    const changed = changedKeys(rule, old.inputs, inputs, r);
    // E step_generator.go: a changed key listed in replaceOnChanges makes the step a replace.
    const effectOf = (k: string): Effect =>
      r.replaceOnChanges.includes(k) || r.replaceOnChanges.includes("*")
        ? "replace"
        : rule.inputs[k]!;
    const effects = changed.map(effectOf);
    if (effects.includes("replace")) {
      // E step_generator.go continueStepsFromDiff: an explicit option wins, true or false.
      const dbr = r.deleteBeforeReplaceDefined ? r.deleteBeforeReplace : rule.deleteBeforeReplace;
      steps.push({
        op: "replace",
        urn: r.urn,
        keys: changed.filter((k) => effectOf(k) === "replace"),
        order: dbr ? "delete-first" : "create-first",
      });
    } else if (effects.includes("update")) {
      steps.push({
        op: "update",
        urn: r.urn,
        keys: changed.filter((k) => effectOf(k) === "update"),
      });
    }
  }
  for (const urn of state.keys()) if (!seen.has(urn)) steps.push({ op: "delete", urn });
  return steps;
}

/**
 * The state after applying `steps`: created and replaced resources as their provider reads them
 * back (Create ends with Read), updated ones as planned (P resourceDockerContainerUpdate and the
 * command provider's update do not read back), unchanged ones as they were.
 */
export function applyPlan(
  state: ReadonlyMap<string, ModelState>,
  next: readonly RecordedResource[],
  host: HostFacts = { swapAccounting: true },
): Map<string, ModelState> {
  const steps = new Map(plan(state, next).map((s) => [s.urn, s]));
  const created = stateAfterUp(next, host);
  const out = new Map<string, ModelState>();
  for (const [urn, fresh] of created) {
    const step = steps.get(urn);
    if (step === undefined) out.set(urn, state.get(urn)!);
    else if (step.op === "update") {
      const r = next.find((x) => x.urn === urn)!;
      out.set(urn, { ...fresh, inputs: plainInputs(r) });
    } else out.set(urn, fresh);
  }
  return out;
}

function changedKeys(
  rule: TypeRule,
  old: Record<string, unknown>,
  next: Record<string, unknown>,
  r: RecordedResource,
): string[] {
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  const out: string[] = [];
  for (const key of keys) {
    if (rule.inputs[key] === undefined) {
      throw new Error(`${r.type} ${r.name}: input "${key}" is not in the provider model`);
    }
    const set = rule.sets?.includes(key) ?? false;
    if (canonical(old[key], set) !== canonical(next[key], set)) out.push(key);
  }
  return out.sort();
}

function canonical(value: unknown, set: boolean): string {
  if (value === undefined) return "";
  if (set && Array.isArray(value))
    return JSON.stringify(value.map((v) => JSON.stringify(v)).sort());
  return JSON.stringify(value);
}

function plainInputs(r: RecordedResource): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.inputs)) {
    const value = reveal(v);
    // The SDK sends unset optional inputs as absent; the mocks keep nulls out too.
    if (value !== undefined && value !== null) out[k] = deepReveal(value);
  }
  return out;
}

function deepReveal(value: unknown): unknown {
  const v = reveal(value);
  if (Array.isArray(v)) return v.map(deepReveal);
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepReveal(x)]));
  }
  return v;
}
