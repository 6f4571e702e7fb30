// Pure: values as the Docker provider writes them back into state. The Terraform Docker provider
// behind @pulumi/docker reads a container's CPU share back with its own formatting, and `cpus`
// forces replacement: a value sent in any other form replaces the container on every `pulumi up`.
// Validation (is a share representable?) and the component (what to send) both use this.

const NANO = 1_000_000_000n;

/**
 * The form the provider reads a CPU share back as: kreuzwerker/terraform-provider-docker
 * internal/provider/helpers.go `nanoInt64ToDecimalString` (big.Rat FloatString(9); when that
 * text holds exactly nine "0" characters, FloatString(1), rounded; else trailing zeros cut), of
 * the NanoCPUs Docker stores (docker/cli opts.ParseCPUs: the decimal times 1e9). Written anew
 * here from that description: 0.5 → "0.5", 1 → "1.0", 10 → "10.", 0.25 → "0.25".
 */
export function providerCpus(cpus: number): string {
  const nano = BigInt(Math.round(cpus * 1e9));
  if (nano === 0n) return "0";
  const nine = `${nano / NANO}.${(nano % NANO).toString().padStart(9, "0")}`;
  if ([...nine].filter((c) => c === "0").length === 9) return floatString1(nano);
  return nine.replace(/0+$/, "");
}

/** big.Rat.FloatString(1): one decimal, rounded half away from zero. */
function floatString1(nano: bigint): string {
  const tenths = (nano * 10n + NANO / 2n) / NANO;
  return `${tenths / 10n}.${tenths % 10n}`;
}

/**
 * Whether a share survives the provider's round trip: `providerCpus` of it, parsed back, is the
 * same number of nano-CPUs. Not so below 0.10 (0.05 reads back as "0.1", 0.04 as "0.0"), so
 * such a share would be replaced on every apply, or run with a different limit.
 */
export function cpusRoundTrip(cpus: number): boolean {
  return Math.round(Number(providerCpus(cpus)) * 1e9) === Math.round(cpus * 1e9);
}
