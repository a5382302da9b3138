import {
  CreatedToken,
  CreatedWebhook,
  Operator,
  OperatorCreate,
  OperatorParams,
  OperatorUpdate,
  Token,
  TokenCreate,
  TokenParams,
  Webhook,
  WebhookCreate,
  WebhookParams,
  WebsiteSettings,
  WebsiteUpdate,
} from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { OperatorService } from "../../core/operators.ts";
import type { TokenService } from "../../core/tokens.ts";
import type { WebhookService } from "../../core/webhooks.ts";
import type { WebsiteService } from "../../core/websites.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

export interface ManagementDeps {
  webhooks: WebhookService;
  tokens: TokenService;
  operators: OperatorService;
  websites: WebsiteService;
}

/** Hugo's own management API under `/api/`: everything is scoped to the Bearer token's website. */
export const managementRoutes =
  ({ tokens, operators, websites, webhooks }: ManagementDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const site = (req: { principal?: { websiteId: string } }) => req.principal!.websiteId;

    app.get(
      "/website",
      {
        config: { scope: "website:manage" },
        schema: {
          tags: ["Website"],
          summary: "Get the token's website",
          response: { 200: Envelope(WebsiteSettings), ...errorResponses },
        },
      },
      async (req) => ok(await websites.get(site(req))),
    );
    app.patch(
      "/website",
      {
        config: { scope: "website:manage" },
        schema: {
          tags: ["Website"],
          summary: "Update the website's settings",
          body: WebsiteUpdate,
          response: { 200: Envelope(WebsiteSettings), ...errorResponses },
        },
      },
      async (req) => ok(await websites.update(site(req), req.body), "updated"),
    );

    app.get(
      "/tokens",
      {
        config: { scope: "tokens:manage" },
        schema: {
          tags: ["API tokens"],
          summary: "List API tokens (secrets are never shown again)",
          response: { 200: Envelope(z.array(Token)), ...errorResponses },
        },
      },
      async (req) => ok(await tokens.list(site(req))),
    );
    app.post(
      "/tokens",
      {
        config: { scope: "tokens:manage" },
        schema: {
          tags: ["API tokens"],
          summary: "Create an API token; the response holds its secret, shown this once",
          body: TokenCreate,
          response: { 201: Envelope(CreatedToken), ...errorResponses },
        },
      },
      async (req, reply) => {
        const created = await tokens.create(site(req), req.body);
        reply.code(201);
        return ok(created, "added");
      },
    );
    app.delete(
      "/tokens/:token_id",
      {
        config: { scope: "tokens:manage" },
        schema: {
          tags: ["API tokens"],
          summary: "Revoke an API token (idempotent)",
          params: TokenParams,
          response: { 200: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req) => {
        await tokens.revoke(site(req), req.params.token_id);
        return ok({}, "deleted");
      },
    );

    app.get(
      "/operators",
      {
        config: { scope: "operators:manage" },
        schema: {
          tags: ["Operators"],
          summary: "List the website's operators",
          response: { 200: Envelope(z.array(Operator)), ...errorResponses },
        },
      },
      async (req) => ok(await operators.list(site(req))),
    );
    app.post(
      "/operators",
      {
        config: { scope: "operators:manage" },
        schema: {
          tags: ["Operators"],
          summary: "Add an operator with a role and a password",
          body: OperatorCreate,
          response: { 201: Envelope(Operator), ...errorResponses },
        },
      },
      async (req, reply) => {
        const created = await operators.create(site(req), req.body);
        reply.code(201);
        return ok(created, "added");
      },
    );
    app.get(
      "/operators/:operator_id",
      {
        config: { scope: "operators:manage" },
        schema: {
          tags: ["Operators"],
          summary: "Get an operator",
          params: OperatorParams,
          response: { 200: Envelope(Operator), ...errorResponses },
        },
      },
      async (req) => ok(await operators.get(site(req), req.params.operator_id)),
    );
    app.patch(
      "/operators/:operator_id",
      {
        config: { scope: "operators:manage" },
        schema: {
          tags: ["Operators"],
          summary: "Rename an operator or change their role",
          params: OperatorParams,
          body: OperatorUpdate,
          response: { 200: Envelope(Operator), ...errorResponses },
        },
      },
      async (req) => ok(await operators.update(site(req), req.params.operator_id, req.body), "updated"),
    );
    app.delete(
      "/operators/:operator_id",
      {
        config: { scope: "operators:manage" },
        schema: {
          tags: ["Operators"],
          summary: "Remove an operator from the website",
          params: OperatorParams,
          response: { 200: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req) => {
        await operators.remove(site(req), req.params.operator_id);
        return ok({}, "deleted");
      },
    );

    const hookTags = ["Web hooks"];
    app.get(
      "/webhooks",
      {
        config: { scope: "website:manage" },
        schema: {
          tags: hookTags,
          summary: "List web hooks (secrets are never shown again)",
          response: { 200: Envelope(z.array(Webhook)), ...errorResponses },
        },
      },
      async (req) => ok(await webhooks.list(site(req))),
    );
    app.post(
      "/webhooks",
      {
        config: { scope: "website:manage" },
        schema: {
          tags: hookTags,
          summary:
            "Add a web hook: events are POSTed with Crisp's envelope and X-Crisp-Signature; the signing secret is shown once",
          body: WebhookCreate,
          response: { 201: Envelope(CreatedWebhook), ...errorResponses },
        },
      },
      async (req, reply) => {
        const created = await webhooks.create(site(req), req.body);
        reply.code(201);
        return ok(created, "added");
      },
    );
    app.delete(
      "/webhooks/:webhook_id",
      {
        config: { scope: "website:manage" },
        schema: {
          tags: hookTags,
          summary: "Remove a web hook",
          params: WebhookParams,
          response: { 200: Envelope(z.object({})), ...errorResponses },
        },
      },
      async (req) => {
        await webhooks.remove(site(req), req.params.webhook_id);
        return ok({}, "deleted");
      },
    );
  };
