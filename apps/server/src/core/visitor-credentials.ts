import { VISITOR_TOKEN_RE } from "@hugo/protocol";
import { hmacHex, safeEqual } from "./crypto.ts";

/** What a visitor credential proves: the bearer is the visitor of this one conversation. */
export interface VisitorPrincipal {
  kind: "visitor";
  websiteId: string;
  sessionId: string;
}

const signature = (secret: string, websiteId: string, sessionId: string) =>
  hmacHex(secret, `visitor:${websiteId}:${sessionId}`);

/**
 * A credential scoped to one conversation: `<website_id>.<session_id>.<hmac-sha256 hex>`. Stateless,
 * so every process holding the server secret verifies it; it is as long-lived as the conversation.
 * Example: `mintVisitorCredential(hugo.secret, websiteId, sessionId)`.
 */
export function mintVisitorCredential(secret: string, websiteId: string, sessionId: string): string {
  return `${websiteId}.${sessionId}.${signature(secret, websiteId, sessionId)}`;
}

/** Verifies a visitor credential in constant time; undefined when malformed or forged. */
export function verifyVisitorCredential(secret: string, token: string): VisitorPrincipal | undefined {
  const m = VISITOR_TOKEN_RE.exec(token);
  if (!m) return undefined;
  const [, websiteId, sessionId, mac] = m as unknown as [string, string, string, string];
  if (!safeEqual(mac, signature(secret, websiteId, sessionId))) return undefined;
  return { kind: "visitor", websiteId, sessionId };
}
