import type { JobHandler } from "../core/jobs.ts";
import type { Stores } from "../core/ports.ts";

/** What job handlers may use; grows as workflows and the agent move onto the queue. */
export interface JobHandlerDeps {
  stores: Stores;
}

/**
 * Every job kind the in-process worker runs, by kind. A kind registered nowhere is never run: its
 * jobs wait until a release that knows it starts. Handlers must make their visible effects
 * idempotent (see `JobHandler`).
 */
export function createJobHandlers(_deps: JobHandlerDeps): Record<string, JobHandler> {
  return {};
}
