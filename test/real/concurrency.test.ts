// Many tenants at once: `pulumi up` starts every site command together. sshd's default
// MaxStartups (10:30:100) drops connections beyond 10 unauthenticated ones; the connection's
// dial retries get them in, and the host lock serialises the scripts on nginx.
import { expect, it } from "vitest";
import { DIAL_ERROR_LIMIT, PER_DIAL_TIMEOUT } from "../../remote/connection";
import { readSite, siteCommand } from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { DialError, runRemote } from "../support/runner";

const TENANTS = Array.from({ length: 30 }, (_, i) => `tenant${String(i + 1).padStart(2, "0")}`);

describeReal("30 tenants installed at once", [], () => {
  const t = useTestHost(TENANTS);

  it("installs all 30 with the program's dial retries, then one reload serves them all", async () => {
    const connection = t.host.connection();
    expect(connection.dialErrorLimit).toBe(DIAL_ERROR_LIMIT);
    expect(connection.perDialTimeout).toBe(PER_DIAL_TIMEOUT);
    const results = await Promise.all(
      TENANTS.map((tenant) => runRemote(siteCommand(t.host, t.site(tenant)))),
    );

    const failed = results.filter((r) => r.code !== 0);
    expect(failed.map((r) => r.stderr)).toEqual([]);
    const attempts = results.map((r) => r.attempts);
    const retried = attempts.filter((a) => a > 1).length;
    console.info(
      `30 concurrent installs with retries: ${retried} needed more than one dial, at most ${Math.max(...attempts)} dials`,
    );
    for (const tenant of TENANTS) expect(readSite(t.host, tenant)).toBe(t.site(tenant).config);
    expect((await t.nginxTest()).code).toBe(0);

    expect((await t.reload()).stdout).toBe("tenantry: nginx reloaded\n");
    for (const tenant of TENANTS) {
      await t.expectAnswer(`${tenant}.example.com`, `200 tenant ${tenant}`);
    }
  });

  it("without retries, sshd refuses some of 30 concurrent connections", async () => {
    // dialErrorLimit 0: a single dial, as a limit of N makes N + 1 attempts.
    const connection = { ...t.host.connection(), dialErrorLimit: 0 };

    const results = await Promise.allSettled(
      TENANTS.map((tenant) => runRemote({ ...siteCommand(t.host, t.site(tenant)), connection })),
    );

    const refused = results.filter((r) => r.status === "rejected");
    for (const r of refused) expect(r.reason).toBeInstanceOf(DialError);
    console.info(`30 concurrent installs without retries: ${refused.length} refused`);
    expect(refused.length).toBeGreaterThan(0);
    // The refusals are sshd's MaxStartups throttling, not anything else.
    expect(t.host.sshd.log()).toContain("past MaxStartups");
    for (const r of results) {
      if (r.status === "fulfilled") expect(r.value.stdout).toMatch(/site tenant\d+ unchanged/);
    }
  });
});
