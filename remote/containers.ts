// Pure: how host scripts find a tenant's container. A stop-first service's container has its
// logical name (`<tenant>-<service>`); a rolling service's generations are named
// `<tenant>-<service>-<6 hex>` (core/rollout.ts) and carry the logical name in a label, so
// scripts that know the logical name (init, suspend, restore, status) look it up first.
import { raw, sh, type Shell } from "./shell";

/** The label a rolling service's containers carry: their logical name. */
export const CONTAINER_LABEL = "tenantry.container";

/**
 * `container_of NAME`: the newest container labelled NAME (during a rolling replacement, the
 * new generation; `docker ps` lists newest first), else NAME itself.
 */
export function containerOfFunction(): Shell {
  return raw(
    `container_of() { id=$(docker ps -a -q --filter "label=${CONTAINER_LABEL}=$1" 2>/dev/null | head -n 1); printf '%s\\n' "\${id:-$1}"; }`,
  );
}

/**
 * Sets `$containers` to the current container of each logical name (container_of), one word
 * each: what a script that acts on all of a tenant's containers loops over.
 */
export function currentContainers(names: readonly string[]): Shell[] {
  return [
    containerOfFunction(),
    raw('containers=""'),
    ...names.map((n) => sh`containers="$containers $(container_of ${n})"`),
  ];
}
