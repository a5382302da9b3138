import { z } from "zod";
import { OperatorId, WebsiteId } from "./ids.ts";
import {
  LoginRequest,
  OperatorCreate,
  OperatorRole,
  Password,
  TOKEN_SCOPES,
  type TokenScope,
} from "./management.ts";

/**
 * Operators' sign-in for the dashboard: a session cookie (HttpOnly, SameSite=Lax) plus a CSRF token
 * the dashboard sends back in `X-CSRF-Token` on every change. API tokens stay the way for code.
 */

/** What each operator role may do, in API-token scopes (the API enforces the same checks for both). */
export const ROLE_SCOPES: Record<OperatorRole, readonly TokenScope[]> = {
  owner: TOKEN_SCOPES,
  admin: TOKEN_SCOPES,
  // Support agents work conversations; they read workflows and knowledge but manage nothing.
  agent: [
    "conversations:read",
    "conversations:write",
    "agent:trigger",
    "workflows:read",
    "workflows:trigger",
    "knowledge:read",
  ],
};

/** The cookie that carries an operator's session. */
export const SESSION_COOKIE = "hugo_session";
/** The header that must echo the session's CSRF token on every request that changes something. */
export const CSRF_HEADER = "x-csrf-token";

/** Body of `POST /api/auth/login`. */
export const SignIn = LoginRequest.extend({
  /** The website to open, for an operator of several (default: the first they joined). */
  website_id: WebsiteId.optional(),
});
export type SignIn = z.infer<typeof SignIn>;

/** Body of `POST /api/auth/setup`: the first owner and their website, on an instance with no operator. */
export const OwnerSetup = z.strictObject({
  email: OperatorCreate.shape.email,
  name: OperatorCreate.shape.name,
  password: Password,
  website_name: z.string().trim().min(1).max(100),
  website_domain: z.string().trim().max(253).optional(),
});
export type OwnerSetup = z.infer<typeof OwnerSetup>;

/** Body of `POST /api/auth/website`: open another website the operator belongs to. */
export const WebsiteSwitch = z.strictObject({ website_id: WebsiteId });

export const SetupStatus = z.object({
  /** No operator exists yet: the dashboard shows the owner's first-run setup instead of sign-in. */
  needed: z.boolean(),
});

/** The signed-in operator, as `GET /api/auth/session` and sign-in return it. */
export const AuthSession = z.object({
  operator: z.object({ id: OperatorId, email: z.string(), name: z.string() }),
  website_id: WebsiteId,
  role: OperatorRole,
  scopes: z.array(z.string()),
  /** Send it back in `X-CSRF-Token` on every POST, PATCH, PUT and DELETE. */
  csrf_token: z.string(),
  websites: z.array(z.object({ id: WebsiteId, name: z.string(), role: OperatorRole })),
  expires_at: z.number().int(),
});
export type AuthSession = z.infer<typeof AuthSession>;
