// Pure: how tenantry reaches a host. One SSH connection description shared by every remote
// command of the host, and the ssh options the Docker provider's ssh:// transport uses. Both
// pin the manifest's host key, so a swapped host stops the apply before anything runs.
import type * as pulumi from "@pulumi/pulumi";
import { urlHost } from "../core/address";

/** How a host is reached over SSH (the manifest's `hosts.<name>` entry has these fields). */
export interface SshTarget {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
}

/**
 * Failed dials a remote command retries. `pulumi up` starts every tenant's command at once, and
 * sshd's default `MaxStartups 10:30:100` drops connections beyond 10 unauthenticated ones. The
 * provider retries every failed dial alike (refused, dropped, timed out, a changed host key),
 * waiting 0.1 s, ×1.5 each time, at most 5 s (pulumi-command v1.2.1
 * provider/pkg/provider/remote/connection.go dialWithRetry). 10 retries are 11 dials spread over
 * about 11 s: enough for a burst of 30 sessions (measured: 4 dials at most), while an unreachable
 * host fails its step in about a minute (11 × PER_DIAL_TIMEOUT + the waits) and a refused
 * connection or a changed host key in about 11 s, not the quarter of an hour 30 × 30 s took.
 */
export const DIAL_ERROR_LIMIT = 10;
/** Seconds a dial may take to connect (x/crypto's Dial timeout covers the TCP connect). */
export const PER_DIAL_TIMEOUT = 5;

/** The `remote.ConnectionArgs` for a host, in the shape @pulumi/command expects. */
export interface HostConnection {
  host: string;
  port: number;
  user: string;
  hostKey: string;
  privateKey?: pulumi.Input<string>;
  dialErrorLimit: number;
  perDialTimeout: number;
}

/**
 * The connection for a host. Without a private key the provider uses the SSH agent
 * (SSH_AUTH_SOCK). The key must already be a Pulumi secret (see index.ts).
 */
export function hostConnection(host: SshTarget, privateKey?: pulumi.Input<string>): HostConnection {
  return {
    host: host.address,
    port: host.port,
    user: host.user,
    hostKey: host.hostKey,
    ...(privateKey === undefined ? {} : { privateKey }),
    dialErrorLimit: DIAL_ERROR_LIMIT,
    perDialTimeout: PER_DIAL_TIMEOUT,
  };
}

/** The Docker daemon URL of a host: Docker's CLI helper runs `ssh ... docker system dial-stdio`. */
export function dockerHost(host: SshTarget): string {
  return `ssh://${host.user}@${urlHost(host.address)}:${host.port}`;
}

/** Alias under which the pinned key is known to ssh, so no known_hosts file is needed. */
export function hostKeyAlias(hostName: string): string {
  return `tenantry-${hostName}`;
}

/**
 * ssh options for the Docker provider (`sshOpts`, passed as separate argv words, no shell):
 * - the host key comes from the manifest through KnownHostsCommand (OpenSSH 8.5+) under a
 *   fixed alias, with every known_hosts file ignored and strict checking on;
 * - BatchMode: never prompt, fail instead;
 * - an explicit identity file when configured (`tenantry:sshKeyPath`), else the agent and the
 *   user's default keys.
 * No ControlMaster: its socket would have to live in a directory that may not exist (ssh then
 * fails outright) or in a shared /tmp, where another user could plant one.
 */
export function dockerSshOpts(hostName: string, host: SshTarget, keyPath?: string): string[] {
  const alias = hostKeyAlias(hostName);
  // prettier-ignore
  return [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `HostKeyAlias=${alias}`,
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", `KnownHostsCommand=/bin/echo ${alias} ${host.hostKey}`,
    "-o", "ServerAliveInterval=15",
    ...(keyPath === undefined ? [] : ["-o", "IdentitiesOnly=yes", "-i", keyPath]),
  ];
}
