import {
  AgentSettings,
  AgentSettingsUpdate,
  AgentTrigger,
  AgentTriggerResult,
  AgentTurn,
  AgentTurnListQuery,
  ProviderCheck,
  TurnParams,
} from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AgentService } from "../../agent/service.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["AI agent"];

/** The AI agent: the trigger of contract §1, its turns (with their guardrails trace), its settings. */
export const agentRoutes =
  (agent: AgentService): FastifyPluginAsyncZod =>
  async (app) => {
    const site = (req: { principal?: { websiteId: string } }) => req.principal!.websiteId;

    // Contract §1 — must be exact: `{session_id, instruction?}` → 202.
    app.post(
      "/agent/trigger",
      {
        config: { scope: "agent:trigger" },
        schema: {
          tags,
          summary: "Trigger the AI agent in a conversation",
          description:
            "The agent reads the conversation and answers from the knowledge base, applying `instruction` (at most 2000 characters) to this conversation only — or hands it over to a human. Answers 202 at once with the turn; follow it with `GET /api/agent/turns/{turn_id}` or the conversation's events.",
          body: AgentTrigger,
          response: { 202: Envelope(AgentTriggerResult), ...errorResponses },
        },
      },
      async (req, reply) => {
        const result = await agent.trigger(site(req), req.body);
        reply.code(202);
        return ok(result, "dispatched");
      },
    );

    app.get(
      "/agent/turns/:turn_id",
      {
        config: { scope: "conversations:read" },
        schema: {
          tags,
          summary: "Get an agent turn with its guardrails trace",
          params: TurnParams,
          response: { 200: Envelope(AgentTurn), ...errorResponses },
        },
      },
      async (req) => ok(await agent.getTurn(site(req), req.params.turn_id)),
    );

    app.get(
      "/agent/turns",
      {
        config: { scope: "conversations:read" },
        schema: {
          tags,
          summary: "List a conversation's agent turns, newest first",
          querystring: AgentTurnListQuery,
          response: { 200: Envelope(z.array(AgentTurn)), ...errorResponses },
        },
      },
      async (req) => ok(await agent.listTurns(site(req), req.query.session_id, req.query.limit)),
    );

    app.get(
      "/agent/settings",
      {
        config: { scope: "website:manage" },
        schema: {
          tags,
          summary: "Get the agent's settings",
          response: { 200: Envelope(AgentSettings), ...errorResponses },
        },
      },
      async (req) => ok(await agent.settings(site(req))),
    );

    app.patch(
      "/agent/settings",
      {
        config: { scope: "website:manage" },
        schema: {
          tags,
          summary: "Change the agent's settings",
          body: AgentSettingsUpdate,
          response: { 200: Envelope(AgentSettings), ...errorResponses },
        },
      },
      async (req) => ok(await agent.updateSettings(site(req), req.body), "updated"),
    );

    app.post(
      "/agent/settings/provider/check",
      {
        config: { scope: "website:manage" },
        schema: {
          tags,
          summary: "Check the agent's LLM provider",
          description:
            "Asks the model (and the fallback model) for a one-word reply, through the same SSRF guard as answers: whether the base URL, the key and the model names work, and how long each took. Always 200 when the check ran; each model says `ok` or its `error`.",
          response: { 200: Envelope(ProviderCheck), ...errorResponses },
        },
      },
      async (req) => ok(await agent.checkProvider(site(req))),
    );
  };
