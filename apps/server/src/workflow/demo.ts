import type { WorkflowCreate, WorkflowGraph } from "@hugo/protocol";

type B = WorkflowGraph["blocks"][number];
const at = (x: number, y: number) => ({ position: { x: x * 260, y: y * 130 } });
const block = (id: string, kind: string, options: Record<string, unknown>, x: number, y: number): B => ({
  id,
  kind,
  options,
  ...at(x, y),
});
const edge = (from: string, to: string, handle = "next") => ({ from, handle, to });

/**
 * The demo website's workflows, deployed on the first start and used in the README: a refund
 * request that calls Hugo's own demo order service, an onboarding tour with buttons, and a lead capture.
 */
export function demoWorkflows(publicUrl: string): (WorkflowCreate & { graph: WorkflowGraph })[] {
  return [
    {
      name: "Refund request",
      description:
        "Asks for the order number and email, checks the order with an HTTP request and escalates to a human when it cannot be refunded.",
      browser_startable: true,
      graph: {
        blocks: [
          block("start", "start.code", {}, 0, 0),
          block("intro", "action.text", { text: "Let's sort out your refund." }, 0, 1),
          block(
            "order",
            "action.field",
            { text: "What is your order number?", explain: "e.g. 1042", type: "number", variable: "order" },
            0,
            2,
          ),
          block(
            "email",
            "action.field",
            {
              text: "And the email you ordered with?",
              explain: "you@example.com",
              type: "email",
              variable: "email",
            },
            0,
            3,
          ),
          block("save_email", "action.set_contact", { field: "email", value: "{{ email }}" }, 0, 4),
          block(
            "lookup",
            "action.http",
            {
              method: "GET",
              url: `${publicUrl}/api/demo/orders/{{ order }}`,
              response: [
                { path: "refundable", variable: "refundable" },
                { path: "status", variable: "order_status" },
              ],
              timeout_ms: 5000,
            },
            0,
            5,
          ),
          block(
            "check",
            "condition.compare",
            { left: "{{ refundable }}", operator: "equals", right: "true" },
            0,
            6,
          ),
          block(
            "approved",
            "action.text",
            {
              text: "Good news: order {{ order }} ({{ order_status }}) can be refunded. We've sent the next steps to {{ email }}.",
            },
            -1,
            7,
          ),
          block("tag", "action.segments", { segments: ["refund"] }, -1, 8),
          block("record", "action.set_data", { key: "refund_order", value: "{{ order }}" }, -1, 9),
          block(
            "human",
            "action.escalate",
            {
              text: "Order {{ order }} needs a closer look — I'm passing you to our team, they'll reply here.",
            },
            1,
            7,
          ),
        ],
        edges: [
          edge("start", "intro"),
          edge("intro", "order"),
          edge("order", "email"),
          edge("email", "save_email"),
          edge("save_email", "lookup"),
          edge("lookup", "check", "success"),
          edge("lookup", "human", "failure"),
          edge("check", "approved", "true"),
          edge("check", "human", "false"),
          edge("approved", "tag"),
          edge("tag", "record"),
        ],
      },
    },
    {
      name: "Onboarding tour",
      description: "Shows the main parts of the product with buttons until the visitor is done.",
      browser_startable: true,
      graph: {
        blocks: [
          block("start", "start.code", {}, 0, 0),
          block("hello", "action.text", { text: "Welcome aboard! Let me show you around." }, 0, 1),
          block(
            "menu",
            "action.picker",
            {
              text: "What would you like to see?",
              variable: "topic",
              choices: [
                { value: "inbox", label: "The inbox" },
                { value: "workflows", label: "Workflows" },
                { value: "agent", label: "The AI agent" },
                { value: "done", label: "I'm all set" },
              ],
            },
            0,
            2,
          ),
          block(
            "inbox",
            "action.text",
            { text: "The inbox gathers every conversation; reply, assign, add notes." },
            -1,
            3,
          ),
          block(
            "workflows",
            "action.text",
            { text: "Workflows automate conversations, like this tour." },
            0,
            3,
          ),
          block("agent", "action.text", { text: "The AI agent answers from your knowledge base." }, 1, 3),
          block("done", "action.set_data", { key: "onboarded", value: "yes" }, 2, 3),
          block("bye", "action.text", { text: "Enjoy! Write here any time." }, 2, 4),
        ],
        edges: [
          edge("start", "hello"),
          edge("hello", "menu"),
          edge("menu", "inbox", "choice:inbox"),
          edge("menu", "workflows", "choice:workflows"),
          edge("menu", "agent", "choice:agent"),
          edge("menu", "done", "choice:done"),
          edge("inbox", "menu"),
          edge("workflows", "menu"),
          edge("agent", "menu"),
          edge("done", "bye"),
        ],
      },
    },
    {
      name: "Lead capture",
      description: "Collects a name, an email and the company size, tags the conversation and leaves a note.",
      browser_startable: false,
      graph: {
        blocks: [
          block("start", "start.code", {}, 0, 0),
          block("hello", "action.text", { text: "Happy to tell you more!" }, 0, 1),
          block("name", "action.field", { text: "What's your name?", type: "text", variable: "name" }, 0, 2),
          block("save_name", "action.set_contact", { field: "nickname", value: "{{ name }}" }, 0, 3),
          block(
            "email",
            "action.field",
            { text: "Your work email?", type: "email", variable: "email" },
            0,
            4,
          ),
          block("save_email", "action.set_contact", { field: "email", value: "{{ email }}" }, 0, 5),
          block(
            "size",
            "action.picker",
            {
              text: "How big is your team?",
              variable: "size",
              choices: [
                { value: "1-10", label: "1–10" },
                { value: "11-50", label: "11–50" },
                { value: "51-plus", label: "51+" },
              ],
            },
            0,
            6,
          ),
          block("save_size", "action.set_data", { key: "company_size", value: "{{ size }}" }, 0, 7),
          block("tag", "action.segments", { segments: ["lead"] }, 0, 8),
          block(
            "note",
            "action.note",
            { text: "New lead: {{ name }} <{{ email }}>, team of {{ size }}." },
            0,
            9,
          ),
          block(
            "thanks",
            "action.text",
            { text: "Thanks {{ name }}! We'll be in touch at {{ email }}." },
            0,
            10,
          ),
        ],
        edges: [
          edge("start", "hello"),
          edge("hello", "name"),
          edge("name", "save_name"),
          edge("save_name", "email"),
          edge("email", "save_email"),
          edge("save_email", "size"),
          edge("size", "save_size", "choice:1-10"),
          edge("size", "save_size", "choice:11-50"),
          edge("size", "save_size", "choice:51-plus"),
          edge("save_size", "tag"),
          edge("tag", "note"),
          edge("note", "thanks"),
        ],
      },
    },
  ];
}
