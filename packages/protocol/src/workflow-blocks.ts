import { z } from "zod";
import { ConversationState, Mime, HttpUrl as Url } from "./conversation.ts";
import { ScenarioId } from "./ids.ts";
import { VariableName } from "./workflow.ts";

/**
 * The block catalogue: one definition per kind — its options as a zod schema (which also carries
 * what the editor needs to draw the form: `title`, `description`, `widget`, `template`) and its
 * outputs. The server pairs each kind with a runner (apps/server/src/workflow/blocks/); the editor
 * draws forms from `z.toJSONSchema(definition.options)`. Options written as templates accept
 * `{{ variable }}` (meta `template: true`).
 */

export type BlockCategory = "start" | "action" | "condition";

/** How a block waits: for the visitor, for time to pass, or not at all. */
export type BlockWait = "visitor" | "timer" | false;

export interface BlockDefinition<O extends z.ZodType = z.ZodType> {
  kind: string;
  category: BlockCategory;
  label: string;
  description: string;
  options: O;
  /** Output handles for these (already validated) options; edges leave from one of them. */
  handles(options: z.output<O>): string[];
  waits: BlockWait | ((options: z.output<O>) => BlockWait);
}

const define = <O extends z.ZodType>(definition: BlockDefinition<O>): BlockDefinition<O> => definition;

const NEXT = () => ["next"];
const BRANCH = () => ["true", "false"];

const template = (title: string, max = 10_000) => z.string().max(max).meta({ title, template: true });
const requiredTemplate = (title: string, max = 10_000) =>
  z.string().trim().min(1, "is required").max(max).meta({ title, template: true });
const duration = (title: string, min: number, max: number) =>
  z.number().int().min(min).max(max).meta({ title, widget: "duration", unit: "ms" });
const optionalTimeout = (title: string) =>
  z
    .number()
    .int()
    .min(1_000)
    .max(30 * 86_400_000)
    .nullable()
    .default(null)
    .meta({ title, widget: "duration", unit: "ms", description: "Empty waits for ever." });
const variable = (title: string) => VariableName.meta({ title, widget: "variable" });
const MetaField = z.enum(["email", "nickname", "phone", "data", "segments"]);
const Segment = z.string().trim().min(1).max(100);

export const FIELD_TYPES = ["text", "email", "phone", "number", "date", "url"] as const;
export const FieldType = z.enum(FIELD_TYPES);
export type FieldType = z.infer<typeof FieldType>;

export const COMPARE_OPERATORS = [
  "equals",
  "not_equals",
  "contains",
  "not_contains",
  "regex",
  "gt",
  "gte",
  "lt",
  "lte",
  "is_set",
  "is_not_set",
] as const;
export const CompareOperator = z.enum(COMPARE_OPERATORS);
export type CompareOperator = z.infer<typeof CompareOperator>;

const Choice = z.strictObject({
  value: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_.-]+$/, "must be letters, digits, _, . or -"),
  label: z.string().trim().min(1).max(500).meta({ template: true }),
});

const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM");

/** `choice:<value>` handles of a picker. */
export const choiceHandle = (value: string): string => `choice:${value}`;

const withTimeout = (handles: string[], timeout: number | null) =>
  timeout === null ? handles : [...handles, "timeout"];

// ── start events ────────────────────────────────────────────────────────────────────────────────

const startBlocks = [
  define({
    kind: "start.code",
    category: "start",
    label: "Triggered from code",
    description:
      'Started by POST /api/scenario/{id}/trigger/ or $crisp.push(["do","bot:scenario:run",[id]]).',
    options: z.strictObject({}),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "start.message",
    category: "start",
    label: "New visitor message",
    description: "Starts when the visitor sends a message and no workflow is running in the conversation.",
    options: z.strictObject({
      first_only: z.boolean().default(false).meta({ title: "Only the conversation's first message" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "start.message_matches",
    category: "start",
    label: "Message matches",
    description: "Starts when a visitor message contains a text, any of some words, or matches a regex.",
    options: z.strictObject({
      mode: z.enum(["contains", "any_word", "regex"]).default("contains").meta({ title: "Match" }),
      value: z.string().trim().min(1, "is required").max(1000).meta({ title: "Text, words or pattern" }),
      case_sensitive: z.boolean().default(false).meta({ title: "Case-sensitive" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "start.answer",
    category: "start",
    label: "Button or field answered",
    description: "Starts when the visitor answers a picker or a field that no running workflow waits for.",
    options: z.strictObject({
      id: z.string().max(255).default("").meta({ title: "Picker or field id (empty: any)" }),
      value: z.string().max(500).default("").meta({ title: "Answer value (empty: any)" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "start.state_changed",
    category: "start",
    label: "Conversation state changed",
    description: "Starts when the conversation becomes pending, unresolved or resolved.",
    options: z.strictObject({
      state: ConversationState.nullable().default(null).meta({ title: "New state (empty: any)" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "start.url_changed",
    category: "start",
    label: "Page URL changed",
    description: "Starts when the visitor opens a page whose URL matches.",
    options: z.strictObject({
      mode: z.enum(["any", "equals", "contains", "starts_with", "regex"]).default("any"),
      value: z.string().max(2048).default("").meta({ title: "URL or pattern" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "start.meta_updated",
    category: "start",
    label: "Contact updated",
    description: "Starts when the visitor's email, name, phone, data or segments change.",
    options: z.strictObject({
      field: MetaField.meta({ title: "Field" }),
      key: z.string().max(100).default("").meta({ title: "Data key (for data; empty: any)" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "start.event",
    category: "start",
    label: "Custom session event",
    description: "Starts when the website pushes a session event with this name.",
    options: z.strictObject({
      name: z.string().trim().min(1, "is required").max(100).meta({ title: "Event name" }),
    }),
    handles: NEXT,
    waits: false,
  }),
];

// ── actions ─────────────────────────────────────────────────────────────────────────────────────

const actionBlocks = [
  define({
    kind: "action.typing",
    category: "action",
    label: "Typing",
    description: "Shows the typing indicator for a while.",
    options: z.strictObject({ duration_ms: duration("Duration", 100, 30_000).default(1_000) }),
    handles: NEXT,
    waits: "timer",
  }),
  define({
    kind: "action.text",
    category: "action",
    label: "Send text",
    description: "Sends a text message.",
    options: z.strictObject({ text: requiredTemplate("Message").meta({ widget: "textarea" }) }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.picker",
    category: "action",
    label: "Buttons",
    description: "Sends buttons and waits for the visitor's choice; each choice has its own output.",
    options: z.strictObject({
      text: requiredTemplate("Question"),
      choices: z.array(Choice).min(1, "needs at least one choice").max(20).meta({ title: "Buttons" }),
      variable: variable("Save the choice as").optional(),
      timeout_ms: optionalTimeout("Timeout"),
    }),
    handles: (o) => withTimeout([...o.choices.map((c) => choiceHandle(c.value)), "other"], o.timeout_ms),
    waits: "visitor",
  }),
  define({
    kind: "action.field",
    category: "action",
    label: "Ask for input",
    description: "Asks the visitor for a value, checks it by type and asks again while it is invalid.",
    options: z.strictObject({
      text: requiredTemplate("Question"),
      explain: template("Placeholder", 1_000).default(""),
      type: FieldType.default("text").meta({ title: "Type" }),
      variable: variable("Save the answer as"),
      retry_text: template("When the answer is invalid", 1_000).default(
        "That doesn't look right — could you check it and try again?",
      ),
      max_attempts: z.number().int().min(1).max(10).default(3).meta({ title: "Attempts" }),
      timeout_ms: optionalTimeout("Timeout"),
    }),
    handles: (o) => withTimeout(["next", "invalid"], o.timeout_ms),
    waits: "visitor",
  }),
  define({
    kind: "action.file",
    category: "action",
    label: "Send file",
    description: "Sends a file.",
    options: z.strictObject({
      name: requiredTemplate("File name", 255),
      url: Url.meta({ title: "URL" }),
      type: Mime.meta({ title: "MIME type" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.animation",
    category: "action",
    label: "Send animation",
    description: "Sends an animated image (GIF).",
    options: z.strictObject({
      url: Url.meta({ title: "URL" }),
      type: Mime.default("image/gif").meta({ title: "MIME type" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.carousel",
    category: "action",
    label: "Send carousel",
    description: "Sends cards with a title, a description, an image and link buttons.",
    options: z.strictObject({
      text: template("Text").default(""),
      targets: z
        .array(
          z.strictObject({
            title: requiredTemplate("Title", 500),
            description: template("Description", 2_000).default(""),
            image: Url.optional(),
            actions: z.array(z.strictObject({ label: z.string().trim().min(1).max(255), url: Url })).max(10),
          }),
        )
        .min(1, "needs at least one card")
        .max(20),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.note",
    category: "action",
    label: "Private note",
    description: "Adds a note only operators see.",
    options: z.strictObject({ text: requiredTemplate("Note").meta({ widget: "textarea" }) }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.set_contact",
    category: "action",
    label: "Update contact",
    description: "Sets the visitor's name, email or phone.",
    options: z.strictObject({
      field: z.enum(["nickname", "email", "phone"]).meta({ title: "Field" }),
      value: template("Value", 320),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.set_data",
    category: "action",
    label: "Set custom data",
    description: "Sets (or, with an empty value, removes) a key of the conversation's data.",
    options: z.strictObject({
      key: z
        .string()
        .trim()
        .min(1, "is required")
        .max(100)
        .regex(/^[A-Za-z0-9_.-]+$/, "must be letters, digits, _, . or -")
        .meta({ title: "Key" }),
      value: template("Value", 1_000),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.segments",
    category: "action",
    label: "Add or remove segments",
    description: "Tags the conversation.",
    options: z.strictObject({
      operation: z.enum(["add", "remove"]).default("add"),
      segments: z.array(Segment).min(1, "needs a segment").max(20),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.push_event",
    category: "action",
    label: "Push session event",
    description: "Records a custom event in the conversation (event-started workflows may react).",
    options: z.strictObject({
      name: z.string().trim().min(1, "is required").max(100).meta({ title: "Event name" }),
      data: z
        .array(z.strictObject({ key: z.string().min(1).max(100), value: template("Value", 1_000) }))
        .max(20)
        .default([]),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.rating",
    category: "action",
    label: "Ask for a rating",
    description: "Asks the visitor to rate the conversation from 1 to 5.",
    options: z.strictObject({
      text: requiredTemplate("Question").default("How would you rate this conversation?"),
      variable: variable("Save the rating as").default("rating"),
      timeout_ms: optionalTimeout("Timeout"),
    }),
    handles: (o) => withTimeout(["next"], o.timeout_ms),
    waits: "visitor",
  }),
  define({
    kind: "action.set_state",
    category: "action",
    label: "Set state",
    description: "Marks the conversation pending, unresolved or resolved.",
    options: z.strictObject({ state: ConversationState.meta({ title: "State" }) }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.wait",
    category: "action",
    label: "Wait",
    description: "Pauses the workflow.",
    options: z.strictObject({ duration_ms: duration("Duration", 1_000, 30 * 86_400_000) }),
    handles: NEXT,
    waits: "timer",
  }),
  define({
    kind: "action.wait_answer",
    category: "action",
    label: "Wait for the visitor's answer",
    description: "Waits for the visitor's next message; the timeout output runs if none comes.",
    options: z.strictObject({
      variable: variable("Save the answer as").optional(),
      timeout_ms: optionalTimeout("Timeout"),
    }),
    handles: (o) => withTimeout(["next"], o.timeout_ms),
    waits: "visitor",
  }),
  define({
    kind: "action.assign",
    category: "action",
    label: "Assign an operator",
    description: "Assigns the conversation to an operator (or unassigns it).",
    options: z.strictObject({
      operator_id: z.string().uuid("must be an operator id").nullable().meta({ title: "Operator" }),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.escalate",
    category: "action",
    label: "Move to the main inbox",
    description: "Hands the conversation to a human: moves it to the main inbox and tells the visitor.",
    options: z.strictObject({
      text: template("Message to the visitor").default(
        "I'm passing you to a member of our team — they'll reply here shortly.",
      ),
    }),
    handles: NEXT,
    waits: false,
  }),
  define({
    kind: "action.http",
    category: "action",
    label: "HTTP request",
    description: "Calls a URL; maps fields of the JSON response to variables.",
    options: z.strictObject({
      method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
      url: requiredTemplate("URL", 2048),
      headers: z
        .array(
          z.strictObject({
            name: z
              .string()
              .min(1)
              .max(100)
              .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a header name"),
            value: template("Value", 2_000),
          }),
        )
        .max(20)
        .default([]),
      body: template("Body (JSON)", 20_000).default("").meta({ widget: "code" }),
      response: z
        .array(
          z.strictObject({
            path: z
              .string()
              .min(1)
              .max(200)
              .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, "must be a dotted path such as data.status"),
            variable: variable("Variable"),
          }),
        )
        .max(20)
        .default([])
        .meta({ title: "Save response fields" }),
      status_variable: variable("Save the status code as").optional(),
      timeout_ms: duration("Timeout", 100, 30_000).default(10_000),
    }),
    handles: () => ["success", "failure"],
    waits: false,
  }),
  define({
    kind: "action.agent",
    category: "action",
    label: "Answer with the AI agent",
    description: "Lets the AI agent answer the conversation, guided by an instruction.",
    options: z.strictObject({
      instruction: template("Instruction", 2_000).default("").meta({ widget: "textarea" }),
    }),
    handles: () => ["next", "failure"],
    waits: false,
  }),
  define({
    kind: "action.start_workflow",
    category: "action",
    label: "Start another workflow",
    description: "Ends this run and starts a deployed workflow in the conversation, passing the variables.",
    options: z.strictObject({
      workflow_id: ScenarioId.meta({ title: "Workflow", widget: "workflow" }),
    }),
    handles: () => [],
    waits: false,
  }),
  define({
    kind: "action.end",
    category: "action",
    label: "End",
    description: "Ends the run.",
    options: z.strictObject({}),
    handles: () => [],
    waits: false,
  }),
];

// ── conditions (outputs `true` / `false`, or one per branch) ───────────────────────────────────

const conditionBlocks = [
  define({
    kind: "condition.is_new",
    category: "condition",
    label: "Conversation is new",
    description: "True when no operator, bot or agent has written in the conversation before this run.",
    options: z.strictObject({}),
    handles: BRANCH,
    waits: false,
  }),
  define({
    kind: "condition.time_since",
    category: "condition",
    label: "Time since last message",
    description: "Compares the time since the last (visitor) message with a duration.",
    options: z.strictObject({
      of: z.enum(["any", "visitor", "operator"]).default("visitor").meta({ title: "Last message from" }),
      operator: z.enum(["more_than", "less_than"]).default("more_than"),
      duration_ms: duration("Duration", 1_000, 365 * 86_400_000),
    }),
    handles: BRANCH,
    waits: false,
  }),
  define({
    kind: "condition.segments",
    category: "condition",
    label: "Segments include",
    description: "Checks the conversation's segments.",
    options: z.strictObject({
      mode: z.enum(["any", "all", "none"]).default("any"),
      segments: z.array(Segment).min(1, "needs a segment").max(20),
    }),
    handles: BRANCH,
    waits: false,
  }),
  define({
    kind: "condition.compare",
    category: "condition",
    label: "Compare data or a variable",
    description: "Compares a template such as {{ plan }} or {{ data.plan }} with a value.",
    options: z.strictObject({
      left: requiredTemplate("Value", 1_000),
      operator: CompareOperator.default("equals"),
      right: template("Compared with", 1_000).default(""),
      case_sensitive: z.boolean().default(false),
    }),
    handles: BRANCH,
    waits: false,
  }),
  define({
    kind: "condition.page_url",
    category: "condition",
    label: "Page URL",
    description: "Checks the URL of the page the visitor is on.",
    options: z.strictObject({
      mode: z.enum(["equals", "contains", "starts_with", "regex"]).default("contains"),
      value: z.string().trim().min(1, "is required").max(2048),
    }),
    handles: BRANCH,
    waits: false,
  }),
  define({
    kind: "condition.business_hours",
    category: "condition",
    label: "Within business hours",
    description: "True during the opening hours, in a time zone.",
    options: z.strictObject({
      timezone: z
        .string()
        .min(1)
        .max(64)
        .refine((tz) => {
          try {
            new Intl.DateTimeFormat("en", { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        }, "must be an IANA time zone such as Europe/Paris")
        .default("UTC"),
      hours: z
        .array(
          z.strictObject({
            days: z.array(z.number().int().min(0).max(6)).min(1).max(7).meta({
              description: "0 = Sunday … 6 = Saturday",
            }),
            from: Time,
            to: Time,
          }),
        )
        .min(1, "needs opening hours")
        .max(14),
    }),
    handles: BRANCH,
    waits: false,
  }),
  define({
    kind: "condition.email_known",
    category: "condition",
    label: "Visitor email known",
    description: "True when the conversation has the visitor's email.",
    options: z.strictObject({}),
    handles: BRANCH,
    waits: false,
  }),
  define({
    kind: "condition.ab_split",
    category: "condition",
    label: "Random A/B split",
    description: "Picks an output at random, by weight.",
    options: z.strictObject({
      branches: z
        .array(
          z.strictObject({
            name: z
              .string()
              .trim()
              .min(1)
              .max(32)
              .regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, _ or -"),
            weight: z.number().int().min(0).max(1000),
          }),
        )
        .min(2, "needs two branches")
        .max(10)
        .refine((b) => b.some((x) => x.weight > 0), "needs a branch with a weight above 0")
        .refine((b) => new Set(b.map((x) => x.name)).size === b.length, "branch names must differ"),
    }),
    handles: (o) => o.branches.map((b) => b.name),
    waits: false,
  }),
];

/** Every block kind, by kind. */
export const BLOCKS: Record<string, BlockDefinition> = Object.fromEntries(
  [...startBlocks, ...actionBlocks, ...conditionBlocks].map((d) => [d.kind, d as BlockDefinition]),
);

export const BLOCK_KINDS = Object.keys(BLOCKS);

/** How a block of this definition waits, for these options. */
export function blockWaits(definition: BlockDefinition, options: unknown): BlockWait {
  return typeof definition.waits === "function" ? definition.waits(options) : definition.waits;
}

/** The catalogue as served to the editor (`GET /api/workflows/blocks`). */
export const BlockCatalogEntry = z.object({
  kind: z.string(),
  category: z.enum(["start", "action", "condition"]),
  label: z.string(),
  description: z.string(),
  waits: z.union([z.enum(["visitor", "timer"]), z.literal(false)]).nullable(),
  /** JSON Schema of the options (input side: defaults are optional). */
  options: z.record(z.string(), z.unknown()),
  /** Outputs with the default options; pickers and A/B splits derive theirs from their options. */
  handles: z.array(z.string()),
});
export type BlockCatalogEntry = z.infer<typeof BlockCatalogEntry>;
