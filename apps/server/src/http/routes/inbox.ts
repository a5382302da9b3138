import {
  Conversation,
  ConversationUpdate,
  InboxCounts,
  InboxMessages,
  InboxMessagesQuery,
  InboxPage,
  InboxQuery,
  Message,
  OperatorReply,
  SessionParams,
} from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { InboxService } from "../../core/inbox.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const tags = ["Inbox"];

/** The dashboard's inbox (`/api/conversations…`); the Crisp-compatible `/v1/` routes stay as they are. */
export const inboxRoutes =
  (inbox: InboxService): FastifyPluginAsyncZod =>
  async (app) => {
    const site = (req: { principal?: { websiteId: string } }) => req.principal!.websiteId;

    app.get(
      "/conversations",
      {
        config: { scope: "conversations:read" },
        schema: {
          tags,
          summary: "List conversations, newest activity first, by inbox, state, assignee, segment or text",
          description:
            "Keyset paging: pass the page's `next_cursor` as `cursor` for the next one (null on the last). `inbox=automated|main` lists that inbox's open conversations, `resolved` the resolved ones.",
          querystring: InboxQuery,
          response: { 200: Envelope(InboxPage), ...errorResponses },
        },
      },
      async (req) => ok(await inbox.list(site(req), req.query)),
    );
    app.get(
      "/conversations/counts",
      {
        config: { scope: "conversations:read" },
        schema: {
          tags,
          summary: "The inbox's badges: open conversations per inbox, resolved ones, unread ones",
          response: { 200: Envelope(InboxCounts), ...errorResponses },
        },
      },
      async (req) => ok(await inbox.counts(site(req))),
    );
    app.get(
      "/conversations/:session_id",
      {
        config: { scope: "conversations:read" },
        schema: {
          tags,
          summary: "Get a conversation with the visitor's meta",
          params: SessionParams,
          response: { 200: Envelope(Conversation), ...errorResponses },
        },
      },
      async (req) => ok(await inbox.get(site(req), req.params.session_id)),
    );
    app.patch(
      "/conversations/:session_id",
      {
        config: { scope: "conversations:write" },
        schema: {
          tags,
          summary: "Change a conversation's state, inbox or assignee",
          params: SessionParams,
          body: ConversationUpdate,
          response: { 200: Envelope(Conversation), ...errorResponses },
        },
      },
      async (req) => ok(await inbox.update(site(req), req.params.session_id, req.body), "updated"),
    );
    app.get(
      "/conversations/:session_id/messages",
      {
        config: { scope: "conversations:read" },
        schema: {
          tags,
          summary: "A conversation's messages: the newest `limit` before `before`, oldest first",
          params: SessionParams,
          querystring: InboxMessagesQuery,
          response: { 200: Envelope(InboxMessages), ...errorResponses },
        },
      },
      async (req) => ok(await inbox.messages(site(req), req.params.session_id, req.query)),
    );
    app.post(
      "/conversations/:session_id/messages",
      {
        config: { scope: "conversations:write" },
        schema: {
          tags,
          summary:
            "Reply as the operator (the agent then stays out of the conversation), or write a private note",
          params: SessionParams,
          body: OperatorReply,
          response: { 201: Envelope(Message), ...errorResponses },
        },
      },
      async (req, reply) => {
        const message = await inbox.reply(req.principal!, req.params.session_id, req.body);
        reply.code(201);
        return ok(message, "added");
      },
    );
  };
