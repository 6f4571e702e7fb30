// Pure: what a preview means per customer. Groups the engine's steps by tenant (the
// TenantInstance a resource belongs to) and by host, folds the several steps of one resource
// into one change, and flags what a reviewer must not miss: downtime and data loss.
import {
  SECRET,
  UNKNOWN,
  type DiffKind,
  type PreviewDiagnostic,
  type PreviewDigest,
  type PreviewStep,
  type ResourceState,
} from "./digest";
import { parseUrn, providerReferenceUrn } from "./urn";

/** Resource types the program registers (components/, index.ts). */
export const TYPES = {
  tenant: "tenantry:index:TenantInstance",
  host: "tenantry:index:Host",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  network: "docker:index/network:Network",
  image: "docker:index/remoteImage:RemoteImage",
  password: "random:index/randomPassword:RandomPassword",
  dns: "cloudflare:index/dnsRecord:DnsRecord",
  command: "command:remote:Command",
  rootStack: "pulumi:pulumi:Stack",
} as const;

export type ResourceKind =
  | "tenant"
  | "host"
  | "container"
  | "volume"
  | "network"
  | "image"
  | "secret"
  | "dns"
  | "site"
  | "bootstrap"
  | "reload"
  | "command"
  | "provider"
  | "other";

export type Flag =
  "NEW TENANT" | "OFFBOARDED" | "DATA LOSS" | "DOWNTIME" | "RETAINED" | "NEW HOST" | "HOST REMOVED";

/** Flags in the order a reviewer should read them. */
export const FLAG_ORDER: readonly Flag[] = [
  "DATA LOSS",
  "DOWNTIME",
  "OFFBOARDED",
  "HOST REMOVED",
  "NEW TENANT",
  "NEW HOST",
  "RETAINED",
];

/**
 * How a replacement runs. The engine emits `delete-replaced` before `create-replacement` when
 * it deletes first (pkg/resource/deploy/step_generator.go, the deleteBeforeReplace branch), and
 * `create-replacement` first otherwise. Without `--show-replacement-steps` only the `replace`
 * step is in the JSON (pkg/backend/display/display.go, shouldShow) and the order is unknown.
 */
export type ReplaceOrder = "stop-first" | "rolling" | "unknown";

export type Action =
  /** "refresh": changed outside Pulumi, and the program does not change it back. */
  | { readonly kind: "create" | "update" | "delete" | "import" | "refresh" }
  | { readonly kind: "replace"; readonly order: ReplaceOrder };

export interface ChangedProperty {
  /** Property path as the engine names it (`envs`, `ports[0].external`). */
  readonly path: string;
  /** The engine's kind of change; "changed" when it gave only the key. */
  readonly kind: DiffKind | "changed";
  readonly forcesReplacement: boolean;
  /** Old and new values as the engine showed them; SECRET and UNKNOWN kept as such. */
  readonly old: PropertyValue;
  readonly new: PropertyValue;
}

export type PropertyValue =
  | { readonly state: "absent" }
  | { readonly state: "secret" }
  | { readonly state: "unknown" }
  | { readonly state: "known"; readonly value: unknown };

export interface ResourceChange {
  readonly urn: string;
  readonly type: string;
  readonly kind: ResourceKind;
  readonly name: string;
  readonly action: Action;
  /** Old state said retainOnDelete: deleting it only drops it from the stack. */
  readonly retained: boolean;
  /** The name the resource had before (its old state's URN, followed through an alias). */
  readonly renamedFrom?: string;
  readonly properties: readonly ChangedProperty[];
  /** What a refresh found changed outside Pulumi (`pulumi preview --refresh`). */
  readonly drift?: { readonly gone: boolean; readonly properties: readonly ChangedProperty[] };
  /** What the reviewer must know about this change, one per flag it raises. */
  readonly flags: ReadonlyArray<{ readonly flag: Flag; readonly reason: string }>;
}

export interface Counts {
  /** Resources a refresh found changed outside Pulumi. */
  readonly drifted: number;
  readonly create: number;
  readonly update: number;
  readonly replace: number;
  readonly delete: number;
}

export interface OwnerSummary {
  readonly kind: "tenant" | "host" | "stack";
  /** Tenant or host name; "" for stack-wide resources. */
  readonly name: string;
  /** A tenant's host, `vps1 → vps2` when it moves; "" when the steps do not say. */
  readonly host: string;
  /** A tenant renamed with aliases: its previous name. */
  readonly renamedFrom?: string;
  readonly changes: readonly ResourceChange[];
  readonly counts: Counts;
  readonly flags: readonly Flag[];
}

export interface PreviewSummary {
  /** Tenants, then hosts, then stack-wide resources; each sorted most severe first. */
  readonly owners: readonly OwnerSummary[];
  readonly dataLoss: boolean;
  /** False when a replacement appears without its create/delete steps (order unknown). */
  readonly replacementOrderKnown: boolean;
  readonly errors: readonly PreviewDiagnostic[];
  readonly changeSummary: Readonly<Record<string, number>>;
}

const REPLACE_OPS = new Set([
  "replace",
  "create-replacement",
  "delete-replaced",
  "import-replacement",
]);

/** The steps of one resource folded into one action; undefined when nothing changes. */
export function actionOf(ops: readonly string[]): Action | undefined {
  if (ops.some((op) => REPLACE_OPS.has(op))) {
    const create = ops.indexOf("create-replacement");
    const del = ops.indexOf("delete-replaced");
    const order: ReplaceOrder =
      del >= 0 && (create < 0 || del < create) ? "stop-first" : create >= 0 ? "rolling" : "unknown";
    return { kind: "replace", order };
  }
  if (ops.includes("create")) return { kind: "create" };
  if (ops.includes("import")) return { kind: "import" };
  if (ops.includes("delete")) return { kind: "delete" };
  if (ops.includes("update")) return { kind: "update" };
  // same (protect changed), read, refresh, discard, remove-pending-replace, diff: no change
  // to a customer's resources.
  return undefined;
}

type Owner = { kind: "tenant" | "host" | "stack"; name: string };

function ownerKey(o: Owner): string {
  return `${o.kind}:${o.name}`;
}

/** Tenant or host a state's parent names; undefined for anything else. */
function parentOwner(state: ResourceState | undefined): Owner | undefined {
  const parent = state?.parent ? parseUrn(state.parent) : undefined;
  if (parent?.type === TYPES.tenant) return { kind: "tenant", name: parent.name };
  if (parent?.type === TYPES.host) return { kind: "host", name: parent.name };
  return undefined;
}

/**
 * Whose resource a URN is: the component itself, the parent its state names, or (no state
 * names one) the longest known tenant or host name its own name starts with.
 */
function ownerOf(
  urn: string,
  state: ResourceState | undefined,
  known: { tenants: readonly string[]; hosts: readonly string[] },
): Owner {
  const parsed = parseUrn(urn)!;
  if (parsed.type === TYPES.tenant) return { kind: "tenant", name: parsed.name };
  if (parsed.type === TYPES.host) return { kind: "host", name: parsed.name };
  const fromParent = parentOwner(state);
  if (fromParent) return fromParent;
  for (const [kind, type, names] of [
    ["tenant", TYPES.tenant, known.tenants],
    ["host", TYPES.host, known.hosts],
  ] as const) {
    if (!parsed.parentTypes.includes(type)) continue;
    const match = [...names]
      .filter((n) => parsed.name.startsWith(`${n}-`))
      .sort((a, b) => b.length - a.length)[0];
    if (match !== undefined) return { kind, name: match };
  }
  return { kind: "stack", name: "" };
}

function kindOf(type: string, name: string, owner: Owner): ResourceKind {
  switch (type) {
    case TYPES.tenant:
      return "tenant";
    case TYPES.host:
      return "host";
    case TYPES.container:
      return "container";
    case TYPES.volume:
      return "volume";
    case TYPES.network:
      return "network";
    case TYPES.image:
      return "image";
    case TYPES.password:
      return "secret";
    case TYPES.dns:
      return "dns";
    case TYPES.command:
      // Names from core/names.ts (siteResourceName) and components/host.ts.
      if (owner.kind === "tenant" && name === `${owner.name}-site`) return "site";
      if (owner.kind === "host" && name === `${owner.name}-bootstrap`) return "bootstrap";
      if (owner.kind === "host" && name === `${owner.name}-nginx-reload`) return "reload";
      return "command";
    default:
      return type.startsWith("pulumi:providers:") ? "provider" : "other";
  }
}

/** A Pulumi property path (`a.b[0]["c.d"]`) as keys and indexes. */
export function parsePropertyPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  const re = /\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|\.?([^.[\]]+)/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1].replace(/\\(.)/g, "$1"));
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}

/** The value at a path in a state's inputs; a secret anywhere on the way hides what is below. */
export function valueAt(
  inputs: Readonly<Record<string, unknown>> | undefined,
  path: string,
): PropertyValue {
  if (inputs === undefined) return { state: "absent" };
  let value: unknown = inputs;
  for (const seg of parsePropertyPath(path)) {
    if (value === SECRET) return { state: "secret" };
    if (value === UNKNOWN) return { state: "unknown" };
    if (typeof seg === "number" && Array.isArray(value)) value = value[seg];
    else if (typeof value === "object" && value !== null && !Array.isArray(value))
      value = Object.hasOwn(value, seg)
        ? (value as Record<string, unknown>)[String(seg)]
        : undefined;
    else return { state: "absent" };
    if (value === undefined) return { state: "absent" };
  }
  if (value === SECRET) return { state: "secret" };
  if (value === UNKNOWN) return { state: "unknown" };
  return { state: "known", value };
}

function changedProperties(
  steps: readonly PreviewStep[],
  oldState: ResourceState | undefined,
  newState: ResourceState | undefined,
): ChangedProperty[] {
  const diffs = new Map<string, { kind: DiffKind | "changed"; replace: boolean }>();
  const replaceKeys = new Set(steps.flatMap((s) => s.replaceReasons));
  for (const step of steps) {
    if (step.op === "delete" || step.op === "delete-replaced") continue;
    for (const [path, d] of Object.entries(step.detailedDiff ?? {})) {
      diffs.set(path, { kind: d.kind, replace: d.kind.endsWith("-replace") });
    }
  }
  if (diffs.size === 0) {
    for (const step of steps) {
      for (const key of [...step.diffReasons, ...step.replaceReasons]) {
        diffs.set(key, { kind: "changed", replace: replaceKeys.has(key) });
      }
    }
  }
  return [...diffs.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, d]) => ({
      path,
      kind: d.kind,
      forcesReplacement: d.replace || replaceKeys.has(path),
      old: valueAt(oldState?.inputs, path),
      new: valueAt(newState?.inputs, path),
    }));
}

/** Flags one change raises, with the reason in words. */
function flagsOf(
  kind: ResourceKind,
  action: Action,
  retained: boolean,
): Array<{ flag: Flag; reason: string }> {
  const out: Array<{ flag: Flag; reason: string }> = [];
  const replaced = action.kind === "replace";
  const gone = action.kind === "delete" || replaced;
  if (kind === "volume" && gone) {
    if (retained) {
      out.push({
        flag: "RETAINED",
        reason: replaced
          ? "replaced: the new volume starts empty; the old one stays on the host (retainOnDelete)"
          : "dropped from the stack; Docker keeps it on the host (retainOnDelete)",
      });
    } else {
      out.push({
        flag: "DATA LOSS",
        reason: `${replaced ? "replaced" : "deleted"} without retainOnDelete: its data is deleted`,
      });
    }
  }
  if (kind === "secret" && replaced) {
    out.push({
      flag: "DATA LOSS",
      reason:
        "generated secret replaced: data written with the old value (a database password, a key) can no longer be opened",
    });
  }
  if (kind === "container" && replaced && action.order !== "rolling") {
    out.push({
      flag: "DOWNTIME",
      reason:
        action.order === "stop-first"
          ? "replaced stop-first: the old container stops before the new one starts"
          : "replaced; the preview does not show the order, and the Docker provider replaces containers stop-first",
    });
  }
  if (kind === "site" && gone) {
    out.push({
      flag: "DOWNTIME",
      reason: replaced ? "nginx site replaced" : "nginx site deleted: the domain stops answering",
    });
  }
  if (kind === "dns" && gone) {
    out.push({
      flag: "DOWNTIME",
      reason: !replaced
        ? "DNS record deleted: the name stops resolving"
        : action.order === "rolling"
          ? "DNS record replaced"
          : "DNS record replaced: the name does not resolve between the delete and the create",
    });
  }
  return out;
}

/** The host a tenant's resources live on: from the Docker provider (`<host>-docker`) or the site's marker. */
function hostsOf(states: ReadonlyArray<ResourceState | undefined>, tenant: string): string[] {
  const hosts = new Set<string>();
  for (const s of states) {
    if (s === undefined) continue;
    const provider = parseUrn(providerReferenceUrn(s.provider) ?? "");
    if (
      provider?.type === "pulumi:providers:docker" &&
      provider.parentTypes.includes(TYPES.host) &&
      provider.name.endsWith("-docker")
    ) {
      hosts.add(provider.name.slice(0, -"-docker".length));
    }
    // The site's trigger is its marker `<tenant>@<host>` (core/names.ts siteMarker).
    const triggers = s.type === TYPES.command ? s.inputs.triggers : undefined;
    if (Array.isArray(triggers)) {
      for (const t of triggers) {
        if (typeof t === "string" && t.startsWith(`${tenant}@`))
          hosts.add(t.slice(tenant.length + 1));
      }
    }
  }
  return [...hosts].sort();
}

function severity(flags: readonly Flag[]): number {
  const ranks = flags.map((f) => FLAG_ORDER.indexOf(f));
  return ranks.length === 0 ? FLAG_ORDER.length : Math.min(...ranks);
}

const KIND_ORDER: readonly ResourceKind[] = [
  "tenant",
  "host",
  "container",
  "volume",
  "secret",
  "site",
  "dns",
  "network",
  "image",
  "bootstrap",
  "reload",
  "command",
  "provider",
  "other",
];

/** Everything a preview changes, per tenant and per host, with its flags. */
export function summarizePreview(digest: PreviewDigest): PreviewSummary {
  const byUrn = new Map<string, PreviewStep[]>();
  for (const step of digest.steps) {
    if (parseUrn(step.urn)?.type === TYPES.rootStack) continue;
    const list = byUrn.get(step.urn);
    if (list) list.push(step);
    else byUrn.set(step.urn, [step]);
  }
  const known = { tenants: [] as string[], hosts: [] as string[] };
  for (const [urn, steps] of byUrn) {
    const parsed = parseUrn(urn)!;
    if (parsed.type === TYPES.tenant) known.tenants.push(parsed.name);
    if (parsed.type === TYPES.host) known.hosts.push(parsed.name);
    for (const s of steps) {
      for (const owner of [parentOwner(s.newState), parentOwner(s.oldState)]) {
        if (owner?.kind === "tenant") known.tenants.push(owner.name);
        if (owner?.kind === "host") known.hosts.push(owner.name);
      }
    }
  }

  interface Group {
    owner: Owner;
    changes: ResourceChange[];
    oldStates: Array<ResourceState | undefined>;
    newStates: Array<ResourceState | undefined>;
    renamedFrom: Set<string>;
  }
  const groups = new Map<string, Group>();
  let replacementOrderKnown = true;
  // With --refresh (and without --run-program) every resource in the state is refreshed before
  // the program runs (pkg/resource/deploy/deployment_executor.go), so a resource's first step is
  // its refresh: still "refresh" when nothing changed outside Pulumi, turned into an update or
  // a delete when something did (pkg/backend/display/json.go, the ResourceOutputsEvent case).
  const refreshed = digest.steps.some((s) => s.op === "refresh");
  for (const [urn, allSteps] of byUrn) {
    const first = allSteps[0]!;
    const isRefresh =
      refreshed &&
      first.oldState !== undefined &&
      (first.op === "refresh" || first.op === "update" || first.op === "delete");
    const steps = isRefresh ? allSteps.slice(1) : allSteps;
    const drift =
      isRefresh && first.op !== "refresh"
        ? {
            gone: first.op === "delete",
            properties:
              first.op === "update"
                ? changedProperties([first], first.oldState, first.newState)
                : [],
          }
        : undefined;
    const action: Action | undefined =
      actionOf(steps.map((s) => s.op)) ?? (drift ? { kind: "refresh" } : undefined);
    if (action === undefined) continue;
    if (action.kind === "replace" && action.order === "unknown") replacementOrderKnown = false;
    const oldState = (steps.find((s) => s.oldState) ?? first).oldState;
    const newState = ([...steps].reverse().find((s) => s.newState) ?? first).newState;
    const owner = ownerOf(urn, newState ?? oldState, known);
    const parsed = parseUrn(urn)!;
    const kind = kindOf(parsed.type, parsed.name, owner);
    const retained = oldState?.retainOnDelete === true;
    const oldName = oldState ? parseUrn(oldState.urn)?.name : undefined;
    const change: ResourceChange = {
      urn,
      type: parsed.type,
      kind,
      name: parsed.name,
      action,
      retained,
      ...(oldName !== undefined && oldName !== parsed.name ? { renamedFrom: oldName } : {}),
      properties:
        action.kind === "update" || action.kind === "replace"
          ? changedProperties(steps, oldState, newState)
          : [],
      ...(drift ? { drift } : {}),
      flags: flagsOf(kind, action, retained),
    };
    const key = ownerKey(owner);
    let group = groups.get(key);
    if (!group) {
      group = { owner, changes: [], oldStates: [], newStates: [], renamedFrom: new Set() };
      groups.set(key, group);
    }
    group.changes.push(change);
    group.oldStates.push(oldState);
    group.newStates.push(newState);
    // A tenant renamed through aliases: its resources' old parent is the old component.
    const oldOwner = parentOwner(oldState);
    const newOwner = parentOwner(newState);
    if (
      oldOwner &&
      newOwner &&
      oldOwner.kind === newOwner.kind &&
      oldOwner.name !== newOwner.name
    ) {
      group.renamedFrom.add(oldOwner.name);
    }
  }

  const owners: OwnerSummary[] = [...groups.values()].map((g) => {
    const component = g.changes.find((c) => c.kind === "tenant" || c.kind === "host");
    const ownerFlags = new Set<Flag>();
    if (component?.kind === "tenant" && component.action.kind === "create")
      ownerFlags.add("NEW TENANT");
    if (component?.kind === "tenant" && component.action.kind === "delete")
      ownerFlags.add("OFFBOARDED");
    if (component?.kind === "host" && component.action.kind === "create")
      ownerFlags.add("NEW HOST");
    if (component?.kind === "host" && component.action.kind === "delete")
      ownerFlags.add("HOST REMOVED");
    const leaving = ownerFlags.has("OFFBOARDED") || ownerFlags.has("HOST REMOVED");
    const changes = g.changes
      // An offboarded tenant goes offline on purpose: its site and DNS deletes are no surprise.
      .map((c) => (leaving ? { ...c, flags: c.flags.filter((f) => f.flag !== "DOWNTIME") } : c))
      .sort(
        (a, b) =>
          severity(a.flags.map((f) => f.flag)) - severity(b.flags.map((f) => f.flag)) ||
          KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
          a.name.localeCompare(b.name),
      );
    for (const c of changes) for (const f of c.flags) ownerFlags.add(f.flag);
    const tenant = g.owner.kind === "tenant";
    const hosts = tenant ? hostsOf([...g.oldStates, ...g.newStates], g.owner.name) : [];
    const oldHosts = tenant ? hostsOf(g.oldStates, g.owner.name) : [];
    const newHosts = tenant ? hostsOf(g.newStates, g.owner.name) : [];
    const moved =
      oldHosts.length === 1 && newHosts.length === 1 && oldHosts[0] !== newHosts[0]
        ? `${oldHosts[0]} → ${newHosts[0]}`
        : undefined;
    const count = (k: Action["kind"][]) => changes.filter((c) => k.includes(c.action.kind)).length;
    return {
      kind: g.owner.kind,
      name: g.owner.name,
      host: moved ?? hosts.join(", "),
      ...(g.renamedFrom.size > 0 ? { renamedFrom: [...g.renamedFrom].sort().join(", ") } : {}),
      changes,
      counts: {
        drifted: changes.filter((c) => c.drift !== undefined).length,
        create: count(["create", "import"]),
        update: count(["update"]),
        replace: count(["replace"]),
        delete: count(["delete"]),
      },
      flags: FLAG_ORDER.filter((f) => ownerFlags.has(f)),
    };
  });
  const kindRank = { tenant: 0, host: 1, stack: 2 } as const;
  owners.sort(
    (a, b) =>
      kindRank[a.kind] - kindRank[b.kind] ||
      severity(a.flags) - severity(b.flags) ||
      a.name.localeCompare(b.name),
  );
  return {
    owners,
    dataLoss: owners.some((o) => o.flags.includes("DATA LOSS")),
    replacementOrderKnown,
    errors: digest.diagnostics.filter((d) => d.severity === "error"),
    changeSummary: digest.changeSummary,
  };
}
