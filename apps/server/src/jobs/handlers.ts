import { KNOWLEDGE_EMBED } from "../agent/knowledge/embeddings.ts";
import type { KnowledgeService } from "../agent/knowledge/service.ts";
import { AGENT_RESOLVE, AGENT_TURN, type AgentService } from "../agent/service.ts";
import type { JobHandler } from "../core/jobs.ts";
import type { Stores } from "../core/ports.ts";
import type { WebhookService } from "../core/webhooks.ts";
import { WORKFLOW_EVENT, WORKFLOW_RESUME, WORKFLOW_STEP, type WorkflowEngine } from "../workflow/engine.ts";
import type { WorkflowEventInput } from "../workflow/events.ts";
import { WORKFLOW_FOLLOW, type WorkflowFollower } from "../workflow/follower.ts";
import type { ResumeInput } from "../workflow/runner.ts";

/** What job handlers may use; grows as workflows and the agent move onto the queue. */
export interface JobHandlerDeps {
  stores: Stores;
  webhooks: WebhookService;
  engine: WorkflowEngine;
  follower: WorkflowFollower;
  agent: AgentService;
  knowledge: KnowledgeService;
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
    // Workflow runs: every job re-checks the run's step counter, so a repeated job does nothing.
    [WORKFLOW_STEP]: async (job) => {
      const { website_id, run_id, step } = job.payload as {
        website_id: string;
        run_id: string;
        step: number;
      };
      await deps.engine.execute(website_id, run_id, step);
    },
    [WORKFLOW_RESUME]: async (job) => {
      const p = job.payload as { website_id: string; run_id: string; step: number; input: ResumeInput };
      await deps.engine.execute(p.website_id, p.run_id, p.step, p.input);
    },
    [WORKFLOW_EVENT]: async (job) => {
      const p = job.payload as { website_id: string; session_id: string; event: WorkflowEventInput };
      await deps.engine.handleEvent(p.website_id, p.session_id, p.event);
    },
    // Agent turns: a turn already finished (the job ran before) does nothing.
    [AGENT_TURN]: async (job) => {
      const { website_id, turn_id } = job.payload as { website_id: string; turn_id: string };
      await deps.agent.runTurn(website_id, turn_id);
    },
    [AGENT_RESOLVE]: async (job) => {
      const { website_id, session_id } = job.payload as { website_id: string; session_id: string };
      await deps.agent.autoResolve(website_id, session_id);
    },
    // Embeds whatever passages lack a vector for the website's model; a provider failure is retried.
    [KNOWLEDGE_EMBED]: async (job) => {
      const { website_id } = job.payload as { website_id: string };
      await deps.knowledge.embedMissing(website_id);
    },
    [WORKFLOW_FOLLOW]: async (job) => {
      const { website_id, from } = job.payload as { website_id: string; from?: number };
      await deps.follower.follow(website_id, from);
    },
  };
}

export const WEBHOOK_DISPATCH = "webhooks.dispatch";
