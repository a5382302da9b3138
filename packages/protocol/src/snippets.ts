import { SNIPPET_IDS } from "@hugo/snippets";
import { z } from "zod";
import { ScenarioId, SessionId, TokenId } from "./ids.ts";
import { Variables } from "./workflow.ts";

/** The snippets of the "Workflow API" menu, in the order they are shown (packages/snippets). */
export const SnippetId = z.enum(SNIPPET_IDS);
export type SnippetId = z.infer<typeof SnippetId>;

export const Snippet = z.object({
  id: SnippetId,
  label: z.string(),
  /** For syntax highlighting: javascript, html, shell, python, php, ruby. */
  language: z.string(),
  code: z.string(),
});
export type Snippet = z.infer<typeof Snippet>;

const SnippetQueryFields = {
  /** The conversation to write in; absent, the snippets name a placeholder and say where the id comes from. */
  session_id: SessionId.optional(),
  /**
   * An API token of this website to write in (needs the `tokens:manage` scope); absent, a
   * placeholder. Only tokens created since Hugo keeps a sealed copy of their secret can be.
   */
  token_id: TokenId.optional(),
};

/** `GET /api/scenario/{workflow_id}/snippets/`. */
export const WorkflowSnippetsQuery = z.strictObject({
  ...SnippetQueryFields,
  /** The trigger's variables, as a JSON object: `{"plan":"pro"}`. */
  variables: z
    .string()
    .max(200_000)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: 'must be a JSON object such as {"plan":"pro"}' });
        return z.NEVER;
      }
    })
    .pipe(Variables)
    .optional(),
});
export type WorkflowSnippetsQuery = z.infer<typeof WorkflowSnippetsQuery>;

/** `GET /api/agent/snippets/`. */
export const AgentSnippetsQuery = z.strictObject({
  ...SnippetQueryFields,
  /** The instruction to write in (at most 2000 characters, as the trigger allows). */
  instruction: z.string().max(2000, "must be at most 2000 characters").optional(),
});
export type AgentSnippetsQuery = z.infer<typeof AgentSnippetsQuery>;

export const SnippetSet = z.object({
  /** Hugo's public URL the snippets call (PUBLIC_URL). */
  base_url: z.string(),
  /** The workflow they run; null for the agent's. */
  workflow_id: ScenarioId.nullable(),
  /** The conversation written in; null: a placeholder. */
  session_id: SessionId.nullable(),
  /** The API token written in; null: a placeholder. */
  token_id: TokenId.nullable(),
  /**
   * For a workflow: whether its browser switch is on, so that the `web-sdk` and `html-button`
   * snippets may start it. Null for the agent, which has no browser snippet (its trigger needs the token).
   */
  browser_startable: z.boolean().nullable(),
  snippets: z.array(Snippet),
});
export type SnippetSet = z.infer<typeof SnippetSet>;
