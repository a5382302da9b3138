import { SESSION_COOKIE, type TokenScope } from "@hugo/protocol";
import type { FastifyRequest } from "fastify";
import { AppError } from "../core/errors.ts";
import type { OperatorPrincipal, OperatorSessionService } from "../core/operator-sessions.ts";
import {
  type Principal,
  parseBearer,
  requireScope,
  type TokenPrincipal,
  type TokenService,
} from "../core/tokens.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The request's principal: an `Authorization` header (API token), else the dashboard's session
 * cookie, whose changes (any method but GET/HEAD/OPTIONS) must carry the session's CSRF token.
 */
export async function authenticatePrincipal(
  tokens: TokenService,
  sessions: OperatorSessionService | undefined,
  request: FastifyRequest,
): Promise<Principal> {
  if (request.headers.authorization || !request.cookies?.[SESSION_COOKIE] || !sessions)
    return authenticate(tokens, request);
  return signedInOperator(sessions, request);
}

/** The dashboard session's operator; `unauthorized` without one, `csrf_failed` for a change without its token. */
export async function signedInOperator(
  sessions: OperatorSessionService,
  request: FastifyRequest,
): Promise<OperatorPrincipal> {
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (!cookie) throw new AppError("unauthorized", "Not signed in.");
  const principal = await sessions.authenticate(cookie);
  if (!SAFE_METHODS.has(request.method))
    sessions.checkCsrf(principal, request.headers["x-csrf-token"] as string | undefined);
  request.principal = principal;
  return principal;
}

const TIERS = new Set(["user", "plugin"]);

/**
 * Reads credentials: `Authorization: Bearer hugo_<id>_<key>` (Hugo) or `Basic base64(identifier:key)`
 * with `X-Crisp-Tier` (Crisp REST v1 clients such as crisp-api).
 */
export async function authenticate(tokens: TokenService, request: FastifyRequest): Promise<TokenPrincipal> {
  const header = request.headers.authorization;
  if (!header)
    throw new AppError("unauthorized", "Send Authorization: Bearer <token> (or Basic identifier:key).");
  const [scheme, value = ""] = header.split(" ", 2);
  let identifier: string;
  let key: string;
  if (scheme?.toLowerCase() === "bearer") {
    const parsed = parseBearer(value.trim());
    if (!parsed)
      throw new AppError("unauthorized", "Malformed Bearer token; expected hugo_<identifier>_<key>.");
    ({ identifier, key } = parsed);
  } else if (scheme?.toLowerCase() === "basic") {
    const decoded = Buffer.from(value.trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0)
      throw new AppError("unauthorized", "Malformed Basic credentials; expected identifier:key.");
    identifier = decoded.slice(0, colon);
    key = decoded.slice(colon + 1);
    const tier = request.headers["x-crisp-tier"];
    if (tier !== undefined && (typeof tier !== "string" || !TIERS.has(tier))) {
      throw new AppError("invalid_header", 'X-Crisp-Tier must be "user" or "plugin".', {
        field: "X-Crisp-Tier",
      });
    }
  } else {
    throw new AppError("unauthorized", "Unsupported Authorization scheme; use Bearer or Basic.");
  }
  const principal = await tokens.authenticate(identifier, key);
  request.principal = principal;
  return principal;
}

/** Authenticates, checks a scope, and, when the route names a website, that the token belongs to it. */
export async function authorize(
  tokens: TokenService,
  request: FastifyRequest,
  scope: TokenScope,
  websiteId?: string,
  sessions?: OperatorSessionService,
): Promise<Principal> {
  const principal = await authenticatePrincipal(tokens, sessions, request);
  // Another website's id answers exactly like an unknown one: existence never leaks.
  if (websiteId !== undefined && websiteId !== principal.websiteId) {
    throw new AppError("website_not_found", `No website ${websiteId}.`);
  }
  requireScope(principal, scope);
  return principal;
}
