import type { BlockRunner, Outcome } from "../runner.ts";
import { BlockError } from "../runner.ts";

/** Start blocks, the end, handing over to another workflow, and the AI agent. */

export const start: BlockRunner<unknown> = {
  async run() {
    return { next: "next" };
  },
};

export const end: BlockRunner<unknown> = {
  async run(): Promise<Outcome> {
    return { end: "completed", reason: "end_block" };
  },
};

export const startWorkflow: BlockRunner<{ workflow_id: string }> = {
  async run(ctx, o) {
    if (o.workflow_id === ctx.workflowId) throw new BlockError("A workflow cannot start itself.");
    await ctx.startWorkflow(o.workflow_id);
    ctx.log(`handing over to ${o.workflow_id}`);
    return { end: "completed", reason: `started ${o.workflow_id}` };
  },
};

/**
 * The AI agent answers in the conversation (or hands it over to a human), guided by the instruction.
 * External: an LLM may take seconds, so the agent writes its answer in its own transactions, and a
 * block run again after a crash finds the turn it already took.
 */
export const agent: BlockRunner<{ instruction: string }> = {
  external: true,
  async run(ctx, o) {
    const turn = await ctx.agent(ctx.render(o.instruction).trim());
    ctx.log(
      turn.decision === "answer"
        ? `the agent answered: ${turn.reason}`
        : `the agent escalated: ${turn.reason}`,
    );
    return { next: "next" };
  },
};
