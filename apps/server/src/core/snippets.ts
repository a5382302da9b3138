import type { AgentSnippetsQuery, SnippetSet, WorkflowSnippetsQuery } from "@hugo/protocol";
import { generateSnippets, type SnippetInput } from "@hugo/snippets";
import { AppError } from "./errors.ts";
import type { Stores } from "./ports.ts";
import { type Principal, requireScope, type TokenService } from "./tokens.ts";

/**
 * The editor's "Workflow API" menu (contract §6): ready-to-run snippets that trigger a workflow or
 * the agent, calling Hugo at its public URL. A real token is written in only for a caller that
 * manages tokens; otherwise, and by default, a placeholder.
 */
export class SnippetService {
  readonly #stores: Stores;
  readonly #tokens: TokenService;
  readonly #publicUrl: string;

  constructor(deps: { stores: Stores; tokens: TokenService; publicUrl: string }) {
    this.#stores = deps.stores;
    this.#tokens = deps.tokens;
    this.#publicUrl = deps.publicUrl;
  }

  async forWorkflow(
    principal: Principal,
    workflowId: string,
    query: WorkflowSnippetsQuery,
  ): Promise<SnippetSet> {
    const workflow = await this.#stores.workflows.find(principal.websiteId, workflowId);
    if (!workflow) throw new AppError("workflow_not_found", `No workflow ${workflowId} in this website.`);
    return this.#set(principal, query, workflowId, workflow.browser_startable, {
      kind: "workflow",
      workflowId,
      variables: query.variables,
    });
  }

  forAgent(principal: Principal, query: AgentSnippetsQuery): Promise<SnippetSet> {
    return this.#set(principal, query, null, null, { kind: "agent", instruction: query.instruction });
  }

  async #set(
    principal: Principal,
    query: { session_id?: string | undefined; token_id?: string | undefined },
    workflowId: string | null,
    browserStartable: boolean | null,
    target: SnippetInput["target"],
  ): Promise<SnippetSet> {
    let token: string | undefined;
    if (query.token_id !== undefined) {
      // Writing a token in shows its secret: only for whoever may manage tokens anyway.
      requireScope(principal, "tokens:manage");
      token = await this.#tokens.reveal(principal.websiteId, query.token_id);
    }
    return {
      base_url: this.#publicUrl,
      workflow_id: workflowId,
      session_id: query.session_id ?? null,
      token_id: query.token_id ?? null,
      browser_startable: browserStartable,
      snippets: generateSnippets({
        target,
        baseUrl: this.#publicUrl,
        token,
        sessionId: query.session_id,
      }),
    };
  }
}
