// Where a tenant's local backup repository may not be: the manifest's rule
// (hosts.*.backup.repository) and the root entry point's check of the backup spec
// (remote/backup.ts) both read this list, so validation refuses what the host would.

/** Where tenantry keeps its state on a host: keys, init markers, backup status. */
export const STATE_DIR = "/var/lib/tenantry";

/** Trees of the system, the kernel, Docker and tenantry's own state: no repository goes there. */
export const REPOSITORY_DENIED_TREES: readonly string[] = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/proc",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var/lib/docker",
  `${STATE_DIR}/tenants`,
  `${STATE_DIR}/status`,
  `${STATE_DIR}/cache`,
];

/** The denied tree a directory is in (or is), if any. */
export function deniedTree(dir: string): string | undefined {
  return REPOSITORY_DENIED_TREES.find((t) => dir === t || dir.startsWith(`${t}/`));
}
