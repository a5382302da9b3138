import { z } from "zod";
import { OperatorId, TokenId, WebsiteId } from "./ids.ts";

/** What an API token may do. `*` is every scope. */
export const TOKEN_SCOPES = [
  "conversations:read",
  "conversations:write",
  "agent:trigger",
  "workflows:read",
  "workflows:trigger",
  "workflows:write",
  "knowledge:read",
  "knowledge:write",
  "tokens:manage",
  "operators:manage",
  "website:manage",
] as const;
export const TokenScope = z.enum(TOKEN_SCOPES);
export type TokenScope = z.infer<typeof TokenScope>;

export const TokenCreate = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(TokenScope).min(1).max(TOKEN_SCOPES.length).optional(),
  /** Lifetime in seconds; absent means the token never expires. */
  expires_in: z
    .number()
    .int()
    .min(60)
    .max(10 * 365 * 86_400)
    .optional(),
});
export type TokenCreate = z.infer<typeof TokenCreate>;

export const Token = z.object({
  id: TokenId,
  website_id: WebsiteId,
  name: z.string(),
  scopes: z.array(TokenScope),
  /** First characters of the secret, to recognise a token without revealing it. */
  hint: z.string(),
  created_at: z.number().int(),
  expires_at: z.number().int().nullable(),
  last_used_at: z.number().int().nullable(),
  revoked_at: z.number().int().nullable(),
});
export type Token = z.infer<typeof Token>;

/** Returned once, at creation: `token` is the Bearer secret; `identifier`/`key` the Crisp Basic pair. */
export const CreatedToken = Token.extend({
  token: z.string(),
  identifier: z.string(),
  key: z.string(),
});
export type CreatedToken = z.infer<typeof CreatedToken>;

export const OperatorRole = z.enum(["owner", "admin", "agent"]);
export type OperatorRole = z.infer<typeof OperatorRole>;

export const Operator = z.object({
  id: OperatorId,
  email: z.string(),
  name: z.string(),
  role: OperatorRole,
  created_at: z.number().int(),
  last_login_at: z.number().int().nullable(),
});
export type Operator = z.infer<typeof Operator>;

export const Password = z.string().min(10, "must be at least 10 characters").max(256);

export const OperatorCreate = z.strictObject({
  email: z.string().trim().toLowerCase().max(320).email("must be an email address"),
  name: z.string().trim().min(1).max(100),
  role: OperatorRole,
  password: Password,
});
export type OperatorCreate = z.infer<typeof OperatorCreate>;

export const OperatorUpdate = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  role: OperatorRole.optional(),
});

export const LoginRequest = z.strictObject({
  email: z.string().trim().toLowerCase().max(320),
  password: z.string().max(256),
});

/**
 * An origin the widget may run on: `https://shop.example.com` (scheme, host, port — no path),
 * normalised as browsers send it (lower case, default port dropped); `https://*.example.com`
 * allows every subdomain of example.com (not example.com itself).
 */
export const WidgetOrigin = z
  .string()
  .trim()
  .max(300)
  .transform((raw, ctx) => {
    const wildcard = /^https?:\/\/\*\./i.test(raw);
    // A placeholder label lets URL check the rest of a wildcard pattern.
    const text = wildcard ? raw.replace("*.", "wildcard---.") : raw;
    const url = URL.canParse(text) ? new URL(text) : undefined;
    if (
      !url ||
      !/^https?:$/.test(url.protocol) ||
      url.username ||
      url.password ||
      !/^\w+:\/\/[^/?#]+\/?$/.test(text) ||
      url.hostname.includes("*") ||
      (wildcard && !url.hostname.startsWith("wildcard---."))
    ) {
      ctx.addIssue({
        code: "custom",
        message: "must be an origin such as https://shop.example.com (no path), or https://*.example.com",
      });
      return z.NEVER;
    }
    return url.origin.replace("wildcard---.", "*.");
  });

/** The chat widget's settings. */
export const WidgetSettings = z.object({
  /** Origins whose pages may use the widget API; empty: any origin. */
  allowed_origins: z.array(z.string()),
});

export const WebsiteSettings = z.object({
  id: WebsiteId,
  name: z.string(),
  domain: z.string(),
  created_at: z.number().int(),
  widget: WidgetSettings,
});
export type WebsiteSettings = z.infer<typeof WebsiteSettings>;

export const WebsiteUpdate = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  domain: z
    .string()
    .trim()
    .toLowerCase()
    .max(253)
    .regex(/^([a-z0-9-]+\.)*[a-z0-9-]+$/, "must be a host name")
    .optional(),
  widget: z
    .strictObject({
      /**
       * Pages of these origins only may call the visitor API (`/api/widget/{website_id}/…`): a
       * request whose `Origin` is another is refused (403 `origin_not_allowed`). Empty: any origin.
       */
      allowed_origins: z
        .array(WidgetOrigin)
        .max(100)
        .transform((list) => [...new Set(list)]),
    })
    .optional(),
});

/** Events a web hook can receive: Crisp's names (contract §4) plus Hugo's own. `*` is all of them. */
export const WebhookEventName = z
  .string()
  .regex(/^(\*|[a-z_]+(:[a-z_]+)*)$/, "must be an event name such as message:send, or *");

export const WebhookCreate = z.strictObject({
  url: z.string().url("must be a URL").max(2048),
  /** Default: every event. */
  events: z.array(WebhookEventName).min(1).max(50).optional(),
});
export type WebhookCreate = z.infer<typeof WebhookCreate>;

export const Webhook = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  created_at: z.number().int(),
  /** The last website_seq delivered; events after it are pending. */
  delivered_seq: z.number().int(),
  last_error: z.string().nullable(),
  last_attempt_at: z.number().int().nullable(),
});
export type Webhook = z.infer<typeof Webhook>;

/** Returned once at creation: `secret` signs every delivery (X-Crisp-Signature). */
export const CreatedWebhook = Webhook.extend({ secret: z.string() });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;
