// The measured program: the real index.ts, imported right after the clock starts.
import "./startClock";
export * from "../index";
