import type { TokenScope } from "@hugo/protocol";

/**
 * Every API-token scope with what it allows, in the order the form lists them. Typed as a record of
 * the protocol's `TokenScope`: a scope added there fails the typecheck until it is described here.
 */
export const SCOPES: Record<TokenScope, string> = {
  "workflows:trigger": "Trigger workflows in conversations",
  "agent:trigger": "Ask the AI agent to step into conversations",
  "conversations:read": "Read conversations and analytics",
  "conversations:write": "Send messages and change conversations",
  "workflows:read": "Read workflows and their runs",
  "workflows:write": "Create, edit and deploy workflows",
  "knowledge:read": "Search and read the knowledge base",
  "knowledge:write": "Add, change and re-index knowledge",
  "tokens:manage": "Create and revoke API tokens",
  "operators:manage": "Invite operators and change roles",
  "website:manage": "Change the website's settings",
};

export const ALL_SCOPES = Object.keys(SCOPES) as TokenScope[];
/** What a backend needs for the two calls the docs start with. */
export const DEFAULT_SCOPES: TokenScope[] = ["workflows:trigger", "agent:trigger"];
