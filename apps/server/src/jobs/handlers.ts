import type { JobHandler } from "../core/jobs.ts";
import type { Stores } from "../core/ports.ts";
import type { WebhookService } from "../core/webhooks.ts";

/** What job handlers may use; grows as workflows and the agent move onto the queue. */
export interface JobHandlerDeps {
  stores: Stores;
  webhooks: WebhookService;
}

/**
 * Every job kind the in-process worker runs, by kind. A kind registered nowhere is never run: its
 * jobs wait until a release that knows it starts. Handlers must make their visible effects
 * idempotent (see `JobHandler`).
 */
export function createJobHandlers(deps: JobHandlerDeps): Record<string, JobHandler> {
  return {
    // Delivers every pending event of the website's web hooks; a failure is retried with backoff.
    [WEBHOOK_DISPATCH]: async (job) => {
      const { website_id } = job.payload as { website_id: string };
      await deps.webhooks.dispatch(website_id);
    },
  };
}

export const WEBHOOK_DISPATCH = "webhooks.dispatch";
