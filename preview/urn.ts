// Pure: Pulumi URNs, read and written as the engine forms them, so a preview's steps can be
// attributed to a tenant or a host and `tenantry targets` can name resources for `--target`.
//
// Format, from pulumi/pulumi sdk/go/common/resource/urn/urn.go (`New`, `IsValid`, `Name`) and
// pkg/resource/deploy/deployment.go (`generateURN`), unchanged from v3.259.0 to the newest source:
//
//   urn:pulumi:<stack>::<project>::<qualified type>::<name>
//
// where the qualified type is the parent's qualified type, `$`, then the resource's own type;
// the root stack (`pulumi:pulumi:Stack`) is never part of it. The name is everything after the
// third `::`, so a name may itself contain `::`.

export const URN_PREFIX = "urn:pulumi:";
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

export interface Urn {
  readonly stack: string;
  readonly project: string;
  /** Parent types and the resource's type, joined by `$`. */
  readonly qualifiedType: string;
  /** The resource's own type token (the last `$` part). */
  readonly type: string;
  /** Types of the parents, outermost first (root stack excluded). */
  readonly parentTypes: readonly string[];
  readonly name: string;
}

/** The parts of a URN, or undefined when it is not one (`urn:pulumi:` and at least three `::`). */
export function parseUrn(text: string): Urn | undefined {
  if (!text.startsWith(URN_PREFIX)) return undefined;
  const parts = text.slice(URN_PREFIX.length).split("::");
  if (parts.length < 4) return undefined;
  const [stack = "", project = "", qualifiedType = ""] = parts;
  const types = qualifiedType.split("$");
  return {
    stack,
    project,
    qualifiedType,
    type: types[types.length - 1] ?? "",
    parentTypes: types.slice(0, -1),
    name: parts.slice(3).join("::"),
  };
}

/** The URN the engine gives a resource: `parentQualifiedType` is "" for a top-level resource. */
export function formatUrn(
  stack: string,
  project: string,
  parentQualifiedType: string,
  type: string,
  name: string,
): string {
  const qualified =
    parentQualifiedType !== "" && parentQualifiedType !== ROOT_STACK_TYPE
      ? `${parentQualifiedType}$${type}`
      : type;
  return `${URN_PREFIX}${stack}::${project}::${qualified}::${name}`;
}

/**
 * The URN inside a provider reference (`<provider urn>::<provider id>`, as steps and states
 * carry it); undefined when the text is not one.
 */
export function providerReferenceUrn(reference: string): string | undefined {
  const cut = reference.lastIndexOf("::");
  if (cut < 0) return undefined;
  const urn = reference.slice(0, cut);
  return parseUrn(urn) === undefined ? undefined : urn;
}
