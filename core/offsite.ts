// The stack secrets an offsite backup repository needs, by its kind (README, "Backups"): the
// program reads them (index.ts, through plan/backup.ts) and `tenantry validate --stack` checks
// them (manifest/stackConfig.ts), so both name the same keys.

export interface OffsiteCredential {
  /** The variable restic (or its sftp command) gets: AWS_ACCESS_KEY_ID, sshKey, ... */
  readonly env: string;
  /** The stack config key, `tenantry:` omitted: `backup.<HOST>.<env>`. */
  readonly key: string;
  /** What the value is, for messages. */
  readonly what: string;
  /** How `pulumi config set --secret KEY` gets it: a placeholder value, or stdin from a file. */
  readonly value: string;
}

export type OffsiteKind = "s3" | "sftp";

/**
 * The kind of a validated restic repository URL (manifest/schema.ts OFFSITE_S3, OFFSITE_SFTP
 * accept only these two schemes): its scheme.
 */
export function offsiteKind(url: string): OffsiteKind {
  return url.startsWith("sftp:") ? "sftp" : "s3";
}

/** `url` is a validated restic URL (manifest/schema.ts): `s3:...` or `sftp:...`. */
export function offsiteCredentials(host: string, url: string): OffsiteCredential[] {
  const needs: Array<Omit<OffsiteCredential, "key">> =
    offsiteKind(url) === "sftp"
      ? [{ env: "sshKey", what: "the SSH private key", value: "< ~/.ssh/backup_key" }]
      : [
          { env: "AWS_ACCESS_KEY_ID", what: "the access key ID", value: "<value>" },
          { env: "AWS_SECRET_ACCESS_KEY", what: "the secret access key", value: "<value>" },
        ];
  return needs.map((n) => ({ ...n, key: `backup.${host}.${n.env}` }));
}
