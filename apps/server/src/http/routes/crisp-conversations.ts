import {
  ComposePatch,
  Conversation,
  ConversationListQuery,
  ConversationMeta,
  Fingerprint,
  InboxPatch,
  Message,
  MessageInput,
  MessagesQuery,
  MetaPatch,
  ReadPatch,
  RoutingPatch,
  SessionId,
  StatePatch,
  WebsiteId,
} from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ConversationService } from "../../core/conversations.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

const Website = z.strictObject({ website_id: WebsiteId });
const Session = z.strictObject({ website_id: WebsiteId, session_id: SessionId });
const tags = ["Crisp REST v1: conversations"];
const read = { scope: "conversations:read" } as const;
const write = { scope: "conversations:write" } as const;
const Empty = z.strictObject({}).optional();

/**
 * The conversation subset of Crisp REST v1 (contract §3), so `crisp-api` pointed at Hugo with
 * `setRestHost()` works unchanged. Thin: parse, call the core, wrap in the envelope.
 */
export const crispConversationRoutes =
  (conversations: ConversationService): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      "/website/:website_id/conversation",
      {
        config: write,
        schema: {
          tags,
          summary: "Create a conversation",
          params: Website,
          body: Empty,
          response: { 201: Envelope(z.object({ session_id: SessionId })), ...errorResponses },
        },
      },
      async (req, reply) => {
        const c = await conversations.create(req.params.website_id);
        reply.code(201);
        return ok({ session_id: c.session_id }, "added");
      },
    );

    app.get(
      "/website/:website_id/conversations/:page",
      {
        config: read,
        schema: {
          tags,
          summary: "List conversations (newest activity first)",
          params: Website.extend({ page: z.coerce.number().int().min(1).max(100_000) }),
          querystring: ConversationListQuery,
          response: { 200: Envelope(z.array(Conversation)), ...errorResponses },
        },
      },
      async (req) => ok(await conversations.list(req.params.website_id, req.query, req.params.page)),
    );

    app.get(
      "/website/:website_id/conversation/:session_id",
      {
        config: read,
        schema: {
          tags,
          summary: "Get a conversation",
          params: Session,
          response: { 200: Envelope(Conversation), ...errorResponses },
        },
      },
      async (req) => ok(await conversations.get(req.params.website_id, req.params.session_id)),
    );

    app.delete(
      "/website/:website_id/conversation/:session_id",
      {
        config: write,
        schema: {
          tags,
          summary: "Remove a conversation",
          params: Session,
          response: { 200: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req) => {
        await conversations.remove(req.params.website_id, req.params.session_id);
        return ok({}, "deleted");
      },
    );

    app.get(
      "/website/:website_id/conversation/:session_id/messages",
      {
        config: read,
        schema: {
          tags,
          summary: "List messages (the 50 before timestamp_before, or after timestamp_after), oldest first",
          params: Session,
          querystring: MessagesQuery,
          response: { 200: Envelope(z.array(Message)), ...errorResponses },
        },
      },
      async (req) =>
        ok(
          await conversations.listMessages(req.params.website_id, req.params.session_id, {
            before: req.query.timestamp_before,
            after: req.query.timestamp_after,
          }),
        ),
    );

    app.post(
      "/website/:website_id/conversation/:session_id/message",
      {
        config: write,
        schema: {
          tags,
          summary: "Send a message",
          params: Session,
          body: MessageInput,
          response: { 202: Envelope(z.object({ fingerprint: z.number().int() })), ...errorResponses },
        },
      },
      async (req, reply) => {
        const m = await conversations.sendMessage(req.params.website_id, req.params.session_id, req.body);
        reply.code(202);
        return ok({ fingerprint: m.fingerprint }, "dispatched");
      },
    );

    app.get(
      "/website/:website_id/conversation/:session_id/message/:fingerprint",
      {
        config: read,
        schema: {
          tags,
          summary: "Get a message",
          params: Session.extend({ fingerprint: Fingerprint }),
          response: { 200: Envelope(Message), ...errorResponses },
        },
      },
      async (req) =>
        ok(
          await conversations.getMessage(
            req.params.website_id,
            req.params.session_id,
            req.params.fingerprint,
          ),
        ),
    );

    app.patch(
      "/website/:website_id/conversation/:session_id/message/:fingerprint",
      {
        config: write,
        schema: {
          tags,
          summary: "Update a message's content (a picker choice, a field value, an edit)",
          params: Session.extend({ fingerprint: Fingerprint }),
          body: z.strictObject({ content: z.unknown() }),
          response: { 200: Envelope(Message), ...errorResponses },
        },
      },
      async (req) =>
        ok(
          await conversations.updateMessage(
            req.params.website_id,
            req.params.session_id,
            req.params.fingerprint,
            req.body.content,
          ),
          "updated",
        ),
    );

    app.get(
      "/website/:website_id/conversation/:session_id/meta",
      {
        config: read,
        schema: {
          tags,
          summary: "Get the conversation's meta",
          params: Session,
          response: { 200: Envelope(ConversationMeta), ...errorResponses },
        },
      },
      async (req) => ok((await conversations.get(req.params.website_id, req.params.session_id)).meta),
    );

    app.patch(
      "/website/:website_id/conversation/:session_id/meta",
      {
        config: write,
        schema: {
          tags,
          summary: "Update the conversation's meta (data merges key by key; null removes a key)",
          params: Session,
          body: MetaPatch,
          response: { 200: Envelope(ConversationMeta), ...errorResponses },
        },
      },
      async (req) =>
        ok(await conversations.updateMeta(req.params.website_id, req.params.session_id, req.body), "updated"),
    );

    app.get(
      "/website/:website_id/conversation/:session_id/state",
      {
        config: read,
        schema: {
          tags,
          summary: "Get the conversation's state",
          params: Session,
          response: { 200: Envelope(StatePatch), ...errorResponses },
        },
      },
      async (req) =>
        ok({ state: (await conversations.get(req.params.website_id, req.params.session_id)).state }),
    );

    app.patch(
      "/website/:website_id/conversation/:session_id/state",
      {
        config: write,
        schema: {
          tags,
          summary: "Change the conversation's state",
          params: Session,
          body: StatePatch,
          response: { 200: Envelope(StatePatch), ...errorResponses },
        },
      },
      async (req) => {
        const c = await conversations.setState(req.params.website_id, req.params.session_id, req.body.state);
        return ok({ state: c.state }, "updated");
      },
    );

    app.get(
      "/website/:website_id/conversation/:session_id/routing",
      {
        config: read,
        schema: {
          tags,
          summary: "Get the assigned operator",
          params: Session,
          response: {
            200: Envelope(z.object({ assigned: z.object({ user_id: z.string() }).nullable() })),
            ...errorResponses,
          },
        },
      },
      async (req) =>
        ok({ assigned: (await conversations.get(req.params.website_id, req.params.session_id)).assigned }),
    );

    app.patch(
      "/website/:website_id/conversation/:session_id/routing",
      {
        config: write,
        schema: {
          tags,
          summary: "Assign an operator (null unassigns)",
          params: Session,
          body: RoutingPatch,
          response: {
            200: Envelope(z.object({ assigned: z.object({ user_id: z.string() }).nullable() })),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const c = await conversations.assign(
          req.params.website_id,
          req.params.session_id,
          req.body.assigned?.user_id ?? null,
        );
        return ok({ assigned: c.assigned }, "updated");
      },
    );

    app.patch(
      "/website/:website_id/conversation/:session_id/inbox",
      {
        config: write,
        schema: {
          tags,
          summary: 'Move to an inbox: "automated" (the AI agent\'s) or null (the main inbox)',
          params: Session,
          body: InboxPatch,
          response: { 200: Envelope(z.object({ inbox_id: z.string().nullable() })), ...errorResponses },
        },
      },
      async (req) => {
        const c = await conversations.setInbox(
          req.params.website_id,
          req.params.session_id,
          req.body.inbox_id,
        );
        return ok({ inbox_id: c.inbox_id }, "updated");
      },
    );

    app.patch(
      "/website/:website_id/conversation/:session_id/compose",
      {
        config: write,
        schema: {
          tags,
          summary: "Send a typing indicator",
          params: Session,
          body: ComposePatch,
          response: { 200: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req) => {
        const b = req.body;
        await conversations.compose(req.params.website_id, req.params.session_id, b.from, b.type, b.excerpt);
        return ok({}, "updated");
      },
    );

    app.patch(
      "/website/:website_id/conversation/:session_id/read",
      {
        config: write,
        schema: {
          tags,
          summary: "Mark messages read (from: operator reads the visitor's messages, user the operator's)",
          params: Session,
          body: ReadPatch,
          response: {
            200: Envelope(z.object({ fingerprints: z.array(z.number().int()) })),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const fps = await conversations.markRead(
          req.params.website_id,
          req.params.session_id,
          req.body.from === "operator" ? "operator" : "user",
          req.body.fingerprints,
        );
        return ok({ fingerprints: fps }, "updated");
      },
    );
  };
