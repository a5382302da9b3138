import { AgentSnippetsQuery, SnippetSet, WorkflowParams, WorkflowSnippetsQuery } from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { SnippetService } from "../../core/snippets.ts";
import type { HttpDeps } from "../app.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["Snippets"];
const tokenNote =
  "`token_id` writes that API token in (the caller needs `tokens:manage`; 409 `token_not_revealable` for a revoked or expired token, or one created before Hugo kept sealed secrets); without it, the placeholder `YOUR_HUGO_API_TOKEN`. Without `session_id`, the placeholder `SESSION_ID`, with a comment saying where the id comes from.";

/** The "Workflow API" menu: snippets that trigger a workflow or the agent, for the editor and the docs. */
export const snippetRoutes =
  (deps: Pick<HttpDeps, "stores" | "tokens" | "publicUrl">): FastifyPluginAsyncZod =>
  async (app) => {
    const snippets = new SnippetService(deps);
    // A snippet may hold a token's secret: never kept by a cache on the way.
    app.addHook("onSend", async (_request, reply, payload) => {
      reply.header("cache-control", "no-store");
      return payload;
    });

    app.get(
      "/scenario/:workflow_id/snippets",
      {
        config: { scope: "workflows:read" },
        schema: {
          tags,
          summary: "Snippets that run a workflow: Web SDK, HTML button, cURL, Node, Python, PHP, Ruby",
          description: `Ready-to-run code calling \`POST /api/scenario/{workflow_id}/trigger/\` at PUBLIC_URL (and \`bot:scenario:run\` in the browser), every value written as a safe literal of its language. \`variables\` is a JSON object. ${tokenNote}`,
          params: WorkflowParams,
          querystring: WorkflowSnippetsQuery,
          response: { 200: Envelope(SnippetSet), ...errorResponses },
        },
      },
      async (req) => ok(await snippets.forWorkflow(req.principal!, req.params.workflow_id, req.query)),
    );

    app.get(
      "/agent/snippets",
      {
        config: { scope: "agent:trigger" },
        schema: {
          tags,
          summary: "Snippets that trigger the AI agent: cURL, Node, Python, PHP, Ruby",
          description: `Ready-to-run code calling \`POST /api/agent/trigger/\` at PUBLIC_URL with \`instruction\` (at most 2000 characters). There is no browser snippet: the agent's trigger needs the API token, which must never be in a page. ${tokenNote}`,
          querystring: AgentSnippetsQuery,
          response: { 200: Envelope(SnippetSet), ...errorResponses },
        },
      },
      async (req) => ok(await snippets.forAgent(req.principal!, req.query)),
    );
  };
