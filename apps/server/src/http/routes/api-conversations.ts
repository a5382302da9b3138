import { ConversationEventPush, ConversationPageVisit, SessionParams } from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ConversationService } from "../../core/conversations.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["Conversations"];

/** Hugo's conversation signals that Crisp's REST API has no route for: session events and page views. */
export const conversationSignalRoutes =
  (conversations: ConversationService): FastifyPluginAsyncZod =>
  async (app) => {
    const site = (req: { principal?: { websiteId: string } }) => req.principal!.websiteId;
    app.post(
      "/conversations/:session_id/events",
      {
        config: { scope: "conversations:write" },
        schema: {
          tags,
          summary: "Push a custom session event (workflows starting on “Custom session event” react)",
          params: SessionParams,
          body: ConversationEventPush,
          response: { 202: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req, reply) => {
        await conversations.pushEvent(site(req), req.params.session_id, req.body.name, req.body.data ?? {});
        reply.code(202);
        return ok({}, "dispatched");
      },
    );
    app.post(
      "/conversations/:session_id/page",
      {
        config: { scope: "conversations:write" },
        schema: {
          tags,
          summary: "Record the page the visitor is on (workflows starting on “Page URL changed” react)",
          params: SessionParams,
          body: ConversationPageVisit,
          response: { 202: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req, reply) => {
        await conversations.visitPage(site(req), req.params.session_id, req.body.url, req.body.title);
        reply.code(202);
        return ok({}, "dispatched");
      },
    );
  };
