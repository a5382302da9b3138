import { randomBytes } from "node:crypto";
import type { CreatedToken } from "@hugo/protocol";
import { AUTOMATED_INBOX } from "@hugo/protocol";
import { demoKnowledge } from "../agent/knowledge/demo.ts";
import type { KnowledgeService } from "../agent/knowledge/service.ts";
import type { AgentService } from "../agent/service.ts";
import { demoWorkflows } from "../workflow/demo.ts";
import type { WorkflowService } from "../workflow/service.ts";
import type { ConversationService } from "./conversations.ts";
import type { OperatorService } from "./operators.ts";
import type { Stores } from "./ports.ts";
import type { TokenService } from "./tokens.ts";
import type { WebsiteService } from "./websites.ts";

/** The key-value row naming the demo website (the demo page and its backend route look it up). */
export const DEMO_WEBSITE_KEY = "demo_website_id";

export interface DemoSeed {
  websiteId: string;
  ownerEmail: string;
  ownerPassword: string;
  token: CreatedToken;
  sessionId: string;
  /** The deployed demo workflows, by name. */
  workflows: { name: string; workflow_id: string }[];
}

/**
 * On a database with no website, creates the demo: a website, its owner, an API token and one
 * conversation. Returns undefined when a website already exists (restarts keep everything).
 * The owner password and the token are returned once, for printing, and stored only hashed.
 */
export async function seedDemo(deps: {
  stores: Stores;
  websites: WebsiteService;
  operators: OperatorService;
  tokens: TokenService;
  conversations: ConversationService;
  workflows: WorkflowService;
  knowledge: KnowledgeService;
  agent: AgentService;
  publicUrl: string;
}): Promise<DemoSeed | undefined> {
  // A unique marker row makes the seed run once even if two processes start together.
  const marker = randomBytes(8).toString("hex");
  if ((await deps.stores.kv.setIfAbsent("demo_seeded", marker)) !== marker) return undefined;
  if ((await deps.stores.websites.list()).length > 0) return undefined;
  const website = await deps.websites.create({ name: "Demo website", domain: "localhost" });
  // The demo page (`GET /demo`) and its backend route find the demo website by this key.
  await deps.stores.kv.setIfAbsent(DEMO_WEBSITE_KEY, website.id);
  const ownerEmail = "owner@hugo.local";
  const ownerPassword = randomBytes(12).toString("base64url");
  await deps.operators.create(website.id, {
    email: ownerEmail,
    name: "Demo owner",
    role: "owner",
    password: ownerPassword,
  });
  const token = await deps.tokens.create(website.id, { name: "Demo token" });
  // In the automated inbox: the AI agent answers its visitor (the seeded question, at once).
  const conversation = await deps.conversations.create(website.id, {
    meta: { nickname: "Demo visitor" },
    inbox_id: AUTOMATED_INBOX,
  });
  for (const source of demoKnowledge(deps.publicUrl)) await deps.knowledge.create(website.id, source);
  const workflows: DemoSeed["workflows"] = [];
  for (const definition of demoWorkflows(deps.publicUrl)) {
    const created = await deps.workflows.create(website.id, definition);
    await deps.workflows.deploy(website.id, created.workflow_id);
    workflows.push({ name: created.name, workflow_id: created.workflow_id });
  }
  // Last: deploying starts following the website's log from its end, and this question should be
  // the agent's first to answer.
  await deps.conversations.sendMessage(website.id, conversation.session_id, {
    type: "text",
    from: "user",
    origin: "chat",
    content: "Hi! How do I trigger a workflow from my backend?",
  });
  // Answered now, so the demo starts complete (the follower's later turn for it finds it done).
  const seq = await deps.stores.conversations.lastSeq(website.id);
  if (seq !== undefined) await deps.agent.answerMessage(website.id, conversation.session_id, seq);
  return {
    websiteId: website.id,
    ownerEmail,
    ownerPassword,
    token,
    sessionId: conversation.session_id,
    workflows,
  };
}
