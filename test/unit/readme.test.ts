// The README's host preparation is what the real tests run and what CI installs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { sudoersLine } from "../../remote/operation";
import { hostPreparation } from "../support/readme";

const root = join(__dirname, "..", "..");

it("names only packages that .ci/run installs, so the tests run on what users install", () => {
  const ci = readFileSync(join(root, ".ci", "run"), "utf8");
  const listed = /^packages=\(([^)]*)\)/m.exec(ci)?.[1]?.split(/\s+/) ?? [];
  const { packages } = hostPreparation();
  expect(packages).toEqual([
    "nginx",
    "docker.io",
    "iptables",
    "util-linux",
    "diffutils",
    "certbot",
    "python3-certbot-dns-cloudflare",
    "restic",
  ]);
  expect(packages.filter((p) => !listed.includes(p))).toEqual([]);
});

it("creates the deploy user in the docker group with the sudoers line the scripts ask for", () => {
  const { script } = hostPreparation();
  expect(script).toContain('adduser --disabled-password --gecos "" deploy\n');
  expect(script).toContain("usermod -aG docker deploy\n");
  expect(script).toContain(`echo '${sudoersLine("deploy")}' > /etc/sudoers.d/tenantry\n`);
});
