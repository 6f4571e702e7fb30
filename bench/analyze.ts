// Pure: what the recorded registrations of evaluations say: resources per tenant, which
// resources an edit of the manifest changes, and what `pulumi up` would then run on the hosts.
import { shortType, subtree } from "../cli/commands/plan";
import type { RecordedResource } from "../cli/offline";

const TENANT_TYPE = "tenantry:index:TenantInstance";
const HOST_TYPE = "tenantry:index:Host";
const COMMAND_TYPE = "command:remote:Command";

export interface TenantCount {
  readonly tenant: string;
  /** The TenantInstance component and everything parented under it. */
  readonly withComponent: number;
  readonly customOnly: number;
  /** Short type (`docker.Container`) → count, custom resources only. */
  readonly byType: Readonly<Record<string, number>>;
}

/** The TenantInstance of `tenant` and every resource under it. */
export function tenantSubtree(
  resources: readonly RecordedResource[],
  tenant: string,
): RecordedResource[] {
  const component = resources.find((r) => r.type === TENANT_TYPE && r.name === tenant);
  if (component === undefined) throw new Error(`no TenantInstance "${tenant}" was registered`);
  return subtree(resources, component.urn);
}

export function countTenant(resources: readonly RecordedResource[], tenant: string): TenantCount {
  const tree = tenantSubtree(resources, tenant);
  const custom = tree.filter((r) => r.custom);
  const byType: Record<string, number> = {};
  for (const r of custom) byType[shortType(r.type)] = (byType[shortType(r.type)] ?? 0) + 1;
  return { tenant, withComponent: tree.length, customOnly: custom.length, byType };
}

/** The parts of a registration the engine diffs, by name. */
function comparable(r: RecordedResource): Record<string, unknown> {
  return {
    parent: r.parent,
    provider: r.provider,
    custom: r.custom,
    dependencies: [...r.dependencies].sort(),
    retainOnDelete: r.retainOnDelete,
    deleteBeforeReplace: r.deleteBeforeReplace,
    protect: r.protect,
    additionalSecretOutputs: r.additionalSecretOutputs,
  };
}

/** What differs between two registrations of one URN: input keys and option names. */
export function changedFields(before: RecordedResource, after: RecordedResource): string[] {
  const fields: string[] = [];
  const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
  for (const key of [...keys].sort()) {
    if (JSON.stringify(before.inputs[key]) !== JSON.stringify(after.inputs[key])) {
      fields.push(`inputs.${key}`);
    }
  }
  const a = comparable(before);
  const b = comparable(after);
  for (const key of Object.keys(a)) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) fields.push(key);
  }
  return fields;
}

export interface ChangedResource {
  readonly before: RecordedResource;
  readonly after: RecordedResource;
  readonly fields: readonly string[];
}

export interface RunDiff {
  readonly added: readonly RecordedResource[];
  readonly removed: readonly RecordedResource[];
  readonly changed: readonly ChangedResource[];
  /** Resources present in both runs. */
  readonly compared: number;
}

/** Compares two evaluations resource by resource (by URN). */
export function diffRuns(
  before: readonly RecordedResource[],
  after: readonly RecordedResource[],
): RunDiff {
  const old = new Map(before.map((r) => [r.urn, r]));
  const now = new Set(after.map((r) => r.urn));
  const changed: ChangedResource[] = [];
  const added: RecordedResource[] = [];
  let compared = 0;
  for (const r of after) {
    const prev = old.get(r.urn);
    if (prev === undefined) {
      added.push(r);
      continue;
    }
    compared++;
    const fields = changedFields(prev, r);
    if (fields.length > 0) changed.push({ before: prev, after: r, fields });
  }
  return { added, removed: before.filter((r) => !now.has(r.urn)), changed, compared };
}

export interface BlastRadius {
  /** Resources of the tenants that were there before (components included). */
  readonly tenantCompared: number;
  readonly tenantChanged: readonly string[];
  /** Resources of the tenants that were there before and are gone after. */
  readonly tenantRemoved: readonly string[];
  /** Everything else: hosts, their shared resources, providers. */
  readonly hostCompared: number;
  /** `name (fields)` of each changed host-level resource. */
  readonly hostChanged: readonly string[];
  readonly added: number;
}

/** How far an edit reaches: changes among the existing tenants' resources vs host-level ones. */
export function blastRadius(
  before: readonly RecordedResource[],
  after: readonly RecordedResource[],
): BlastRadius {
  const tenants = before.filter((r) => r.type === TENANT_TYPE).map((r) => r.name);
  const tenantUrns = new Set(tenants.flatMap((t) => tenantSubtree(before, t).map((r) => r.urn)));
  const diff = diffRuns(before, after);
  const describe = (c: ChangedResource) => `${c.after.name} (${c.fields.join(", ")})`;
  const tenantCompared = tenantUrns.size - diff.removed.filter((r) => tenantUrns.has(r.urn)).length;
  return {
    tenantCompared,
    tenantChanged: diff.changed.filter((c) => tenantUrns.has(c.after.urn)).map(describe),
    tenantRemoved: diff.removed.filter((r) => tenantUrns.has(r.urn)).map((r) => r.name),
    hostCompared: diff.compared - tenantCompared,
    hostChanged: diff.changed.filter((c) => !tenantUrns.has(c.after.urn)).map(describe),
    added: diff.added.length,
  };
}

export interface ApplyEffects {
  /** Remote commands whose create runs (new, re-run or replacement), by name. */
  readonly commandsRun: readonly string[];
  /** SSH sessions of remote commands: one per create that runs, one per delete script run. */
  readonly sshSessions: number;
  /** Docker resources created, changed or removed (each over the Docker provider's ssh://). */
  readonly dockerChanges: number;
  /** `<host>-nginx-reload` steps that run. */
  readonly reloadSteps: readonly string[];
  /** Site installs: they only flag their host's reload step. */
  readonly siteFlags: readonly string[];
  /** Site delete scripts that run (removal or replacement): each reloads nginx itself. */
  readonly siteDeletes: readonly string[];
  /** Host bootstraps that run again: they reload nginx only if the host include changed. */
  readonly bootstrapRuns: readonly string[];
  /**
   * nginx reloads of the apply: reload steps on a host where a site flagged a change, plus
   * site deletes, plus bootstraps whose include (stdin) changed.
   */
  readonly nginxReloads: number;
}

type CommandRole = "site" | "reload" | "bootstrap";

/** A Host's commands are `<host>-nginx-reload` and `<host>-bootstrap`; a tenant's is its site. */
function commandRole(r: RecordedResource): CommandRole {
  // A URN ends `::<type>::<name>`.
  const parentType = r.parent.split("::").at(-2) ?? "";
  if (!parentType.endsWith(HOST_TYPE)) return "site";
  return r.name.endsWith("-nginx-reload") ? "reload" : "bootstrap";
}

interface CommandRun {
  readonly r: RecordedResource;
  readonly create: boolean;
  readonly deleteOld: boolean;
}

function commandRuns(diff: RunDiff): CommandRun[] {
  const isCommand = (r: RecordedResource) => r.type === COMMAND_TYPE;
  const hasDelete = (r: RecordedResource) => r.inputs.delete !== undefined;
  const runs: CommandRun[] = [
    ...diff.added.filter(isCommand).map((r) => ({ r, create: true, deleteOld: false })),
    ...diff.removed.filter(isCommand).map((r) => ({ r, create: false, deleteOld: hasDelete(r) })),
  ];
  for (const c of diff.changed) {
    if (!isCommand(c.after) || !c.fields.some((f) => f.startsWith("inputs."))) continue;
    const replaced = c.fields.includes("inputs.triggers") || c.fields.includes("inputs.connection");
    runs.push({ r: c.after, create: true, deleteOld: replaced && hasDelete(c.before) });
  }
  return runs;
}

/**
 * What `pulumi up` would run on the hosts to go from `before` to `after`. A remote command whose
 * `triggers` or `connection` change is replaced (the new one's create, then the old one's delete
 * script if it has one); any other input change runs `create` again (no `update` is set). A
 * command without a delete script opens no session when it is deleted.
 */
export function applyEffects(diff: RunDiff): ApplyEffects {
  const runs = commandRuns(diff);
  const named = (role: CommandRole, pick: (x: CommandRun) => boolean) =>
    runs.filter((x) => commandRole(x.r) === role && pick(x)).map((x) => x.r);
  const reloads = named("reload", (x) => x.create);
  const flags = named("site", (x) => x.create);
  const siteDeletes = named("site", (x) => x.deleteOld);
  // Commands of one host share its connection object, so equal connections mean one host.
  const flaggedHosts = new Set(flags.map((r) => JSON.stringify(r.inputs.connection)));
  const flaggedReloads = reloads.filter((r) =>
    flaggedHosts.has(JSON.stringify(r.inputs.connection)),
  );
  const newIncludes = diff.changed.filter(
    (c) => commandRole(c.after) === "bootstrap" && c.fields.includes("inputs.stdin"),
  );
  const isDocker = (r: RecordedResource) => r.custom && r.type.startsWith("docker:");
  const names = (rs: readonly RecordedResource[]) => rs.map((r) => r.name);
  return {
    commandsRun: runs.filter((x) => x.create).map((x) => x.r.name),
    sshSessions: runs.reduce((n, x) => n + (x.create ? 1 : 0) + (x.deleteOld ? 1 : 0), 0),
    dockerChanges:
      diff.added.filter(isDocker).length +
      diff.removed.filter(isDocker).length +
      diff.changed.filter((c) => isDocker(c.after)).length,
    reloadSteps: names(reloads),
    siteFlags: names(flags),
    siteDeletes: names(siteDeletes),
    bootstrapRuns: names(named("bootstrap", (x) => x.create)),
    nginxReloads: flaggedReloads.length + siteDeletes.length + newIncludes.length,
  };
}
