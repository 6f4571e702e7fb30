// What `validate` and `plan` say about Let's Encrypt's limits: the certificates a change would
// request (against --since, the manifest applied now; else a first apply), warnings located in
// the file, and a refusal (ManifestError, exit 1) when a change goes past a limit.
import type { LoadedManifest } from "../manifest/load";
import { ManifestError, formatProblem, type LocatedProblem } from "../manifest/problems";
import { checkAcmeLimits, describeDirectory, type LimitReport } from "../plan/tls";
import { loadManifestFile, plural } from "./common";

export interface LimitCheck {
  readonly report: LimitReport;
  /** `FILE:LINE:COL path: warning: ...` lines for stderr. */
  readonly warnings: readonly string[];
  /** One line on what the change requests, for plan's output. */
  readonly summary: string;
}

/** Counts the change from `since` (a manifest file) to `loaded`; throws past a limit. */
export function checkLimits(loaded: LoadedManifest, since: string | undefined): LimitCheck {
  const before = since === undefined ? undefined : loadManifestFile(since).manifest;
  const report = checkAcmeLimits(loaded.manifest, before);
  const locate = (f: LimitReport["findings"][number]): LocatedProblem => ({
    file: loaded.file,
    ...loaded.locate(f.path),
    path: f.path,
    message: f.message,
  });
  const refusals = report.findings.filter((f) => f.level === "refusal").map(locate);
  if (refusals.length > 0) throw new ManifestError(refusals);
  const warnings = report.findings
    .filter((f) => f.level === "warning")
    .map((f) => formatProblem({ ...locate(f), message: `warning: ${f.message}` }));
  const counted =
    since === undefined ? "a first apply requests" : `since ${since}, this change requests`;
  const domains = report.perRegisteredDomain.map(([d, n]) => `${d} ${n}`).join(", ");
  const summary = `${counted} ${plural(report.requests.length, "certificate")}${domains ? ` (per registered domain: ${domains})` : ""}; from ${describeDirectory(report)}`;
  return { report, warnings, summary };
}
