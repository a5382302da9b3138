import { choiceHandle, type FieldType, type Message } from "@hugo/protocol";
import type { BlockRunner, Outcome, ResumeInput, StepContext } from "../runner.ts";
import { validateFieldValue } from "../values.ts";

/** Blocks that talk to the visitor: messages, questions, and the waits between them. */

const NEXT: Outcome = { next: "next" };

const until = (ctx: StepContext, timeoutMs: number | null): number | null =>
  timeoutMs === null ? null : ctx.now + timeoutMs;

/** The id of the picker or field a step sends: unique per run and step, so an old one's answer is ignored. */
const questionId = (ctx: StepContext): string => `${ctx.runId}:${ctx.blockId}:${ctx.step}`;

/** The text a visitor message carries (a file's URL for files). */
export function messageText(message: Message): string {
  if (typeof message.content === "string") return message.content;
  const c = message.content as { text?: unknown; url?: unknown } | null;
  return typeof c?.text === "string" ? c.text : typeof c?.url === "string" ? c.url : "";
}

export const text: BlockRunner<{ text: string }> = {
  async run(ctx, o) {
    await ctx.send({ type: "text", content: ctx.render(o.text).trim() });
    return NEXT;
  },
};

export const note: BlockRunner<{ text: string }> = {
  async run(ctx, o) {
    await ctx.send({ type: "note", content: ctx.render(o.text).trim() });
    return NEXT;
  },
};

export const file: BlockRunner<{ name: string; url: string; type: string }> = {
  async run(ctx, o) {
    await ctx.send({ type: "file", content: { name: ctx.render(o.name).trim(), url: o.url, type: o.type } });
    return NEXT;
  },
};

export const animation: BlockRunner<{ url: string; type: string }> = {
  async run(ctx, o) {
    await ctx.send({ type: "animation", content: { url: o.url, type: o.type } });
    return NEXT;
  },
};

interface CarouselOptions {
  text: string;
  targets: {
    title: string;
    description: string;
    image?: string | undefined;
    actions: { label: string; url: string }[];
  }[];
}
export const carousel: BlockRunner<CarouselOptions> = {
  async run(ctx, o) {
    await ctx.send({
      type: "carousel",
      content: {
        text: ctx.render(o.text),
        targets: o.targets.map((t) => ({
          title: ctx.render(t.title).trim() || "—",
          description: ctx.render(t.description),
          ...(t.image ? { image: t.image } : {}),
          actions: t.actions,
        })),
      },
    });
    return NEXT;
  },
};

export const typing: BlockRunner<{ duration_ms: number }> = {
  async run(ctx, o) {
    ctx.typing("start");
    return { wait: { kind: "timer", until: ctx.now + o.duration_ms } };
  },
  async resume(ctx, _o, input) {
    if (input.kind !== "timer") return { retry: { kind: "timer", until: currentUntil(ctx) ?? ctx.now } };
    ctx.typing("stop");
    return NEXT;
  },
};

export const wait: BlockRunner<{ duration_ms: number }> = {
  async run(ctx, o) {
    ctx.log(`waiting ${Math.round(o.duration_ms / 1000)} s`);
    return { wait: { kind: "timer", until: ctx.now + o.duration_ms } };
  },
  async resume(ctx, _o, input) {
    return input.kind === "timer" ? NEXT : { retry: { kind: "timer", until: currentUntil(ctx) ?? ctx.now } };
  },
};

export const waitAnswer: BlockRunner<{ variable?: string | undefined; timeout_ms: number | null }> = {
  async run(ctx, o) {
    return {
      wait: { kind: "answer", expect: "message", id: null, until: until(ctx, o.timeout_ms), attempts: 0 },
    };
  },
  async resume(ctx, o, input) {
    if (input.kind === "timeout") return { next: "timeout" };
    if (input.kind !== "message") return sameWait(ctx, "message", null);
    const answer = messageText(input.message);
    if (o.variable) ctx.setVariable(o.variable, answer);
    ctx.log(`answered: ${answer.slice(0, 200)}`);
    return NEXT;
  },
};

interface PickerOptions {
  text: string;
  choices: { value: string; label: string }[];
  variable?: string | undefined;
  timeout_ms: number | null;
}

async function sendPicker(ctx: StepContext, text: string, choices: { value: string; label: string }[]) {
  const id = questionId(ctx);
  await ctx.send({
    type: "picker",
    content: {
      id,
      text: ctx.render(text).trim(),
      choices: choices.map((c) => ({
        value: c.value,
        label: ctx.render(c.label).trim() || c.value,
        selected: false,
      })),
    },
  });
  return id;
}

/** Which choice an input picks: a click on this picker, or a typed answer equal to a label or value. */
function pickedChoice(
  input: ResumeInput,
  id: string | null,
  choices: { value: string; label: string }[],
  ctx: StepContext,
): { value: string; label: string } | "other" | undefined {
  if (input.kind === "picker") {
    if (input.id !== id) return undefined;
    return choices.find((c) => c.value === input.value) ?? "other";
  }
  if (input.kind === "message") {
    const typed = messageText(input.message).trim().toLowerCase();
    const match = choices.find(
      (c) => c.value.toLowerCase() === typed || ctx.render(c.label).trim().toLowerCase() === typed,
    );
    return match ?? "other";
  }
  return undefined;
}

export const picker: BlockRunner<PickerOptions> = {
  async run(ctx, o) {
    const id = await sendPicker(ctx, o.text, o.choices);
    return { wait: { kind: "answer", expect: "picker", id, until: until(ctx, o.timeout_ms), attempts: 0 } };
  },
  async resume(ctx, o, input) {
    if (input.kind === "timeout") return { next: "timeout" };
    const wait = waitOf(ctx);
    const choice = pickedChoice(input, wait, o.choices, ctx);
    if (choice === undefined) return sameWait(ctx, "picker", wait);
    if (choice === "other") {
      if (o.variable && input.kind === "message") ctx.setVariable(o.variable, messageText(input.message));
      ctx.log("answered with something that is not one of the buttons");
      return { next: "other" };
    }
    if (o.variable) ctx.setVariable(o.variable, choice.value);
    ctx.log(`chose ${choice.value}`);
    return { next: choiceHandle(choice.value) };
  },
};

const RATING_CHOICES = [1, 2, 3, 4, 5].map((n) => ({ value: String(n), label: `${"★".repeat(n)}` }));

export const rating: BlockRunner<{ text: string; variable: string; timeout_ms: number | null }> = {
  async run(ctx, o) {
    const id = await sendPicker(ctx, o.text, RATING_CHOICES);
    return { wait: { kind: "answer", expect: "picker", id, until: until(ctx, o.timeout_ms), attempts: 0 } };
  },
  async resume(ctx, o, input) {
    if (input.kind === "timeout") return { next: "timeout" };
    const wait = waitOf(ctx);
    let value: number | undefined;
    if (input.kind === "picker" && input.id === wait) value = Number(input.value);
    if (input.kind === "message")
      value = Number(messageText(input.message).replace(/[^0-9]/g, "") || Number.NaN);
    if (value === undefined || !Number.isInteger(value) || value < 1 || value > 5) {
      return sameWait(ctx, "picker", wait);
    }
    ctx.setVariable(o.variable, value);
    ctx.log(`rated ${value}/5`);
    return NEXT;
  },
};

interface FieldOptions {
  text: string;
  explain: string;
  type: FieldType;
  variable: string;
  retry_text: string;
  max_attempts: number;
  timeout_ms: number | null;
}

export const field: BlockRunner<FieldOptions> = {
  async run(ctx, o) {
    const id = questionId(ctx);
    await ctx.send({
      type: "field",
      content: { id, text: ctx.render(o.text).trim(), explain: ctx.render(o.explain) },
    });
    return { wait: { kind: "answer", expect: "field", id, until: until(ctx, o.timeout_ms), attempts: 0 } };
  },
  async resume(ctx, o, input) {
    if (input.kind === "timeout") return { next: "timeout" };
    const wait = waitOf(ctx);
    let raw: string | undefined;
    if (input.kind === "field" && input.id === wait) raw = input.value;
    if (input.kind === "message" && input.message.type === "text") raw = messageText(input.message);
    if (raw === undefined) return sameWait(ctx, "field", wait);
    const checked = validateFieldValue(o.type, raw);
    if (checked.ok) {
      ctx.setVariable(o.variable, checked.value);
      ctx.log(`${o.variable} = ${String(checked.value).slice(0, 200)}`);
      return NEXT;
    }
    const attempts = currentAttempts(ctx) + 1;
    ctx.log(`invalid ${o.type} (${checked.reason}), attempt ${attempts} of ${o.max_attempts}`);
    if (attempts >= o.max_attempts) return { next: "invalid" };
    const retry = ctx.render(o.retry_text).trim();
    if (retry) await ctx.send({ type: "text", content: retry });
    return { retry: { kind: "answer", expect: "field", id: wait, until: currentUntil(ctx), attempts } };
  },
};

/** The answer the run waits for (set when resuming). */
function waitOf(ctx: StepContext): string | null {
  return ctx.wait?.kind === "answer" ? ctx.wait.id : null;
}
function currentAttempts(ctx: StepContext): number {
  return ctx.wait?.kind === "answer" ? ctx.wait.attempts : 0;
}
function currentUntil(ctx: StepContext): number | null {
  return ctx.wait?.until ?? null;
}

/** An input this wait does not take (a click on an older picker…): keep waiting, same deadline. */
function sameWait(ctx: StepContext, expect: "message" | "picker" | "field", id: string | null): Outcome {
  return { retry: { kind: "answer", expect, id, until: currentUntil(ctx), attempts: currentAttempts(ctx) } };
}
