// Pure: how a service's container is replaced, and the names and addresses a rolling
// replacement gives each generation of it (README, "Upgrades without a failed request").

export type Rollout = "rolling" | "stop-first";

/** The parts of a service entry the choice reads (structural: core/ sits below manifest/). */
export interface RolloutService {
  readonly rollout?: Rollout | undefined;
  readonly health?: string | undefined;
  readonly port?: number | undefined;
  readonly volumes: Readonly<Record<string, string>>;
}

/**
 * As written, else rolling for a service with a health check and no volumes (nothing two
 * containers could write at once), else stop-first.
 */
export function serviceRollout(svc: RolloutService): Rollout {
  if (svc.rollout !== undefined) return svc.rollout;
  const healthy = svc.health !== undefined && svc.port !== undefined;
  return healthy && Object.keys(svc.volumes).length === 0 ? "rolling" : "stop-first";
}

/** Bytes of a generation: 6 hex digits in the container name, 3 bytes of its address. */
export const GENERATION_BYTES = 3;

/** The Pulumi name of a rolling service's generation (a RandomId beside its container). */
export const generationResourceName = (containerName: string): string =>
  `${containerName}-generation`;

/** A rolling service's container of one generation: `<tenant>-<service>-<6 hex>`. */
export function generationContainerName(containerName: string, generation: string): string {
  return `${containerName}-${generation}`;
}

/**
 * The loopback address a generation publishes its port on: 127.<b1>.<b2>.<b3>, with the last
 * byte kept from 1 to 254. All of 127.0.0.0/8 is the host's own (Linux routes it to `lo`), so
 * old and new publish the same host port at once on two addresses, no other interface reaches
 * either, and the address is part of the container's config: it survives restarts and reboots,
 * unlike the bridge address Docker assigns at each start. Two generations in a row share an
 * address once in 16 million replacements (`docker create` then fails, nothing stops: see the
 * README for `pulumi up --replace`).
 */
export function laneAddress(generation: string): string {
  if (!new RegExp(`^[0-9a-f]{${GENERATION_BYTES * 2}}$`).test(generation)) {
    throw new Error(`not a generation: ${JSON.stringify(generation)}`);
  }
  const [a, b, c] = [0, 2, 4].map((i) => parseInt(generation.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
  return `127.${a}.${b}.${1 + (c % 254)}`;
}

/** Seconds the provider waits for a new container to be healthy (its `waitTimeout`). */
export function healthWaitSeconds(health: {
  readonly intervalSeconds: number;
  readonly startPeriodSeconds: number;
  readonly retries: number;
}): number {
  // Healthy at the first passing check; the checks start one interval in, and a start period's
  // failures do not count: the start period plus every retry, and one interval to spare.
  return health.startPeriodSeconds + health.intervalSeconds * (health.retries + 2);
}
