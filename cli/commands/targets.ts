// `tenantry targets TENANT...`: the `--target` flags that make `pulumi preview`/`up` touch only
// those tenants, what they depend on and their hosts' reload steps, so onboarding one customer
// diffs the same dozen resources at 10 tenants and at 1,000.
//
// The engine's rules this follows (pulumi/pulumi pkg/resource/deploy/step_generator.go):
// - a targeted resource whose parent, dependency or provider is new and not targeted fails with
//   "will be created but was not specified in --target list": so the list is closed over
//   parents, dependencies and providers;
// - providers (and the root stack) are always targeted (`isImplicitlyTargetedResource`), so
//   they are walked through but not listed.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { parse } from "yaml";
import { formatUrn, providerReferenceUrn } from "../../preview/urn";
import { loadManifestFile, tenantNamed } from "../common";
import { runOffline, type RecordedResource } from "../offline";

const TENANT_TYPE = "tenantry:index:TenantInstance";
const HOST_TYPE = "tenantry:index:Host";
const COMMAND_TYPE = "command:remote:Command";

export interface TargetScope {
  /** Stack name as the URN holds it (the last part of `org/project/stack`). */
  readonly stack: string;
  /** Project name from Pulumi.yaml. */
  readonly project: string;
}

/**
 * The URNs to pass as `--target` for `tenants`, formed as the engine forms them for `scope`
 * (not as the mocks did), in registration order.
 */
export function targetUrns(
  resources: readonly RecordedResource[],
  tenants: readonly string[],
  scope: TargetScope,
): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));

  // The engine's URN: the parent's qualified type, `$`, the type (preview/urn.ts).
  const qualified = new Map<string, string>();
  const qualifiedType = (r: RecordedResource): string => {
    let q = qualified.get(r.urn);
    if (q === undefined) {
      const parent = r.parent === "" ? undefined : byUrn.get(r.parent);
      q = parent === undefined ? r.type : `${qualifiedType(parent)}$${r.type}`;
      qualified.set(r.urn, q);
    }
    return q;
  };
  const engineUrn = (r: RecordedResource): string => {
    const parent = r.parent === "" ? undefined : byUrn.get(r.parent);
    return formatUrn(
      scope.stack,
      scope.project,
      parent ? qualifiedType(parent) : "",
      r.type,
      r.name,
    );
  };

  // Which tenant component each resource sits under ("" for none).
  const tenantOf = new Map<string, string>();
  const owner = (r: RecordedResource): string => {
    let t = tenantOf.get(r.urn);
    if (t === undefined) {
      const parent = r.parent === "" ? undefined : byUrn.get(r.parent);
      t = r.type === TENANT_TYPE ? r.name : parent ? owner(parent) : "";
      tenantOf.set(r.urn, t);
    }
    return t;
  };

  const wanted = new Set(tenants);
  const picked = new Set<string>();
  const queue: RecordedResource[] = resources.filter((r) => wanted.has(owner(r)));
  const tenantUrns = new Set(queue.map((r) => r.urn));
  // The hosts' reload steps that wait for these tenants (they reload nginx for new sites).
  for (const r of resources) {
    const parent = r.parent === "" ? undefined : byUrn.get(r.parent);
    if (
      r.type === COMMAND_TYPE &&
      parent?.type === HOST_TYPE &&
      r.dependencies.some((d) => tenantUrns.has(d))
    ) {
      queue.push(r);
    }
  }
  while (queue.length > 0) {
    const r = queue.pop()!;
    if (picked.has(r.urn)) continue;
    picked.add(r.urn);
    const next = [r.parent, providerReferenceUrn(r.provider) ?? "", ...r.dependencies];
    for (const urn of next) {
      const dep = urn === "" ? undefined : byUrn.get(urn);
      // A reload step waits for every tenant of its host; the others are not pulled in.
      if (dep === undefined || picked.has(dep.urn)) continue;
      const depOwner = owner(dep);
      if (depOwner !== "" && !wanted.has(depOwner)) continue;
      queue.push(dep);
    }
  }
  return resources
    .filter((r) => picked.has(r.urn) && !r.type.startsWith("pulumi:providers:"))
    .map(engineUrn);
}

/** `org/project/stack` or `stack` → the stack name a URN holds; throws on anything else. */
export function stackName(value: string): string {
  const name = value.split("/").pop() ?? "";
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || value.split("/").length > 3) {
    throw new Error(
      `--stack ${value}: not a stack name (letters, digits, "-", "_", "."; or org/project/stack)`,
    );
  }
  return name;
}

/** The project name from Pulumi.yaml in `dir`. */
export function projectName(dir: string): string {
  const file = path.join(dir, "Pulumi.yaml");
  if (!existsSync(file)) {
    throw new Error(
      `no Pulumi.yaml in ${dir} (run in the project directory, or pass --project NAME)`,
    );
  }
  const doc = parse(readFileSync(file, "utf8")) as { name?: unknown } | null;
  if (typeof doc?.name !== "string" || doc.name === "") {
    throw new Error(`${file}: no project name (a top-level "name:" key)`);
  }
  return doc.name;
}

export function registerTargets(program: Command): void {
  program
    .command("targets")
    .description(
      "Print the --target flags for pulumi preview/up that touch only these tenants (plus what they depend on and their hosts' reload steps)",
    )
    .argument("<tenant...>", "tenants in the manifest")
    .requiredOption(
      "-s, --stack <name>",
      "the Pulumi stack the URNs are for (as pulumi --stack takes it)",
    )
    .option("--file <file>", "manifest", "tenants.yaml")
    .option("--project <name>", "Pulumi project name (default: from Pulumi.yaml)")
    .option("--urns", "print bare URNs, one a line, instead of --target=URN flags")
    .action(
      async (
        names: string[],
        opts: { stack: string; file: string; project?: string; urns?: boolean },
      ) => {
        const scope: TargetScope = {
          stack: stackName(opts.stack),
          project: opts.project ?? projectName(process.cwd()),
        };
        const loaded = loadManifestFile(opts.file); // fails with every problem listed
        const tenants = [...new Set(names.map((n) => tenantNamed(loaded, n)))];
        const { resources } = await runOffline({
          tenantsFile: path.resolve(opts.file),
          manifest: loaded.manifest,
        });
        const urns = targetUrns(resources, tenants, scope);
        process.stdout.write(urns.map((u) => (opts.urns ? u : `--target=${u}`)).join("\n") + "\n");
        const hosts = [...new Set(tenants.map((t) => loaded.manifest.tenants[t]!.host))];
        process.stderr.write(
          `tenantry targets: ${urns.length} resources for ${tenants.join(", ")} on ${hosts.join(", ")} (stack ${scope.stack}); ` +
            `use as: pulumi up $(npx tenantry targets ${tenants.join(" ")} --stack ${opts.stack})\n`,
        );
      },
    );
}
