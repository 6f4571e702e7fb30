// Side effect only: imported first by each entry module, so the clock starts just before the
// measured program is imported and evaluated.
import { clock, monotonicUs } from "./clock";

clock.start = performance.now();
clock.cpu = process.cpuUsage();
clock.startUs = monotonicUs();
