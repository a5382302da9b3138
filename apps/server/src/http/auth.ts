import type { TokenScope } from "@hugo/protocol";
import type { FastifyRequest } from "fastify";
import { AppError } from "../core/errors.ts";
import { parseBearer, requireScope, type TokenPrincipal, type TokenService } from "../core/tokens.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal?: TokenPrincipal;
  }
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
): Promise<TokenPrincipal> {
  const principal = await authenticate(tokens, request);
  // Another website's id answers exactly like an unknown one: existence never leaks.
  if (websiteId !== undefined && websiteId !== principal.websiteId) {
    throw new AppError("website_not_found", `No website ${websiteId}.`);
  }
  requireScope(principal, scope);
  return principal;
}
