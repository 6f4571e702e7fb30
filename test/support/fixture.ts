// One test host per test file, started in beforeAll and stopped in afterAll (also when a test
// or the start itself fails), with stub backends for the file's tenants and the helpers most
// real tests use.
import { afterAll, beforeAll } from "vitest";
import { answerText, startBackend, type Backend } from "./backends";
import { bootstrapCommand, reloadCommand, siteCommand, testSite, type TestSite } from "./commands";
import { TestHost, type TestHostOptions } from "./host";
import { eventually, run, type RunResult } from "./proc";
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
  /** `nginx -t` of the host's config, run locally. */
  nginxTest(): Promise<RunResult>;
}

export function useTestHost(
  tenants: readonly string[],
  options: TestHostOptions & { bootstrap?: boolean } = {},
): HostFixture {
  let started: TestHost | undefined;
  const backends = new Map<string, Backend>();

  beforeAll(async () => {
    started = await TestHost.start(options);
    for (const tenant of tenants) backends.set(tenant, await startBackend(tenant));
    if (options.bootstrap ?? true) await runRemoteOk(bootstrapCommand(started));
  });

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
    answer: (domain, path) => answerText(fixture.host.nginxPort, domain, path),
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
    nginxTest: () => run("nginx", ["-c", fixture.host.nginx.config, "-t"]),
  };
  return fixture;
}
