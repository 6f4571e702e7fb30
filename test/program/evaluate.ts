// Child-process entry for program tests that need several evaluations (Pulumi's runtime is
// process-global): evaluates one manifest offline and prints the recorded run as JSON. On
// failure it prints the error and how many resources had been registered before it.
// Usage: tsx test/program/evaluate.ts MANIFEST [--no-secrets] [--config key=value]...
import { OfflineFailure, runOffline } from "../../cli/offline";

async function main(): Promise<void> {
  const [tenantsFile, ...rest] = process.argv.slice(2);
  const config: Record<string, string> = {};
  let fillSecrets = true;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--no-secrets") fillSecrets = false;
    if (rest[i] === "--config") {
      const [key, ...value] = (rest[++i] ?? "").split("=");
      config[key!] = value.join("=");
    }
  }
  try {
    const run = await runOffline({ tenantsFile, fillSecrets, config });
    process.stdout.write(JSON.stringify(run));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof OfflineFailure) process.stderr.write(`registered: ${err.registered}\n`);
    process.exitCode = 1;
  }
}

void main();
