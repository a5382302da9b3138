import { HttpUrl, SessionId } from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ConversationService } from "../../core/conversations.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["Conversations"];
const Params = z.strictObject({ session_id: SessionId });

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
          params: Params,
          body: z.strictObject({
            name: z.string().trim().min(1).max(100),
            data: z
              .record(z.string().min(1).max(100), z.union([z.string().max(2000), z.number(), z.boolean()]))
              .refine((d) => Object.keys(d).length <= 40, "at most 40 keys")
              .optional(),
          }),
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
          params: Params,
          body: z.strictObject({
            url: HttpUrl,
            title: z.string().max(500).optional(),
          }),
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
