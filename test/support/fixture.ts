// One test host per test file, started in beforeAll and stopped in afterAll (also when a test
// or the start itself fails), with stub backends for the file's tenants and the helpers most
// real tests use.
import { availableParallelism } from "node:os";
import { afterAll, beforeAll } from "vitest";
import { answerText, startBackend, type Backend } from "./backends";
import { bootstrapCommand, reloadCommand, siteCommand, testSite, type TestSite } from "./commands";
import { TestHost, type TestHostOptions } from "./host";
import { eventually, type RunResult } from "./proc";

/** Loopback ports of the stub backends inside the host. */
const BACKEND_PORT_BASE = 18_000;
import { runRemoteOk, type CommandResult } from "./runner";

export interface HostFixture {
  readonly host: TestHost;
  backend(tenant: string): Backend;
  /** `<tenant>.example.com` routed to the tenant's stub backend. */
  site(tenant: string, options?: { hostName?: string; domains?: readonly string[] }): TestSite;
  /** Runs a site's create (as root) and requires success. */
  install(site: TestSite): Promise<CommandResult>;
  /** Runs the host's reload step and requires success. */
  reload(): Promise<CommandResult>;
  /** What nginx answers for a Host: "200 tenant acme" or "closed without response". */
  answer(domain: string, path?: string): Promise<string>;
  /** Waits (a reload takes effect asynchronously) until nginx answers `domain` with `expected`. */
  expectAnswer(domain: string, expected: string, path?: string): Promise<void>;
  /** `nginx -t` of the host's config, run on the host as root. */
  nginxTest(): Promise<RunResult>;
  /**
   * nginx's workers once a reload has settled (the old generation gone): Debian's
   * `worker_processes auto` runs one per CPU. Unchanged pids later mean no reload happened.
   */
  settledWorkers(): Promise<number[]>;
}

export function useTestHost(
  tenants: readonly string[],
  options: TestHostOptions & { bootstrap?: boolean } = {},
): HostFixture {
  let started: TestHost | undefined;
  const backends = new Map<string, Backend>();

  beforeAll(async () => {
    started = await TestHost.start(options);
    // Backends listen on the host's loopback, where nginx proxies to (a fresh namespace: free).
    for (const [i, tenant] of tenants.entries()) {
      backends.set(tenant, await startBackend(started, tenant, BACKEND_PORT_BASE + i));
    }
    if (options.bootstrap ?? true) await runRemoteOk(bootstrapCommand(started));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...backends.values()].map((b) => b.close()));
    await started?.stop();
  });

  const fixture: HostFixture = {
    get host(): TestHost {
      if (started === undefined) throw new Error("the test host did not start (see beforeAll)");
      return started;
    },
    backend(tenant) {
      const backend = backends.get(tenant);
      if (backend === undefined) throw new Error(`no stub backend for tenant ${tenant}`);
      return backend;
    },
    site: (tenant, siteOptions = {}) =>
      testSite(fixture.host, tenant, fixture.backend(tenant).port, siteOptions),
    install: (site) => runRemoteOk(siteCommand(fixture.host, site)),
    reload: () => runRemoteOk(reloadCommand(fixture.host)),
    answer: (domain, path) =>
      answerText(fixture.host.address, fixture.host.nginxPort, domain, path),
    expectAnswer: async (domain, expected, path) => {
      await eventually(
        `${domain}${path ?? ""} → ${expected}`,
        async () => {
          const got = await fixture.answer(domain, path);
          if (got !== expected) {
            const emerg = fixture.host.nginx.emergencies();
            throw new Error(
              `nginx answered "${got}"${emerg.length ? `; ${emerg.join("; ")}` : ""}`,
            );
          }
          return true;
        },
        10_000,
      );
    },
    nginxTest: () => fixture.host.exec("nginx", ["-t"]),
    settledWorkers: () =>
      eventually("one generation of nginx workers", () => {
        const pids = fixture.host.nginx.workerPids();
        return pids.length === availableParallelism() ? pids : undefined;
      }),
  };
  return fixture;
}
