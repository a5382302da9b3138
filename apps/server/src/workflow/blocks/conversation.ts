import type { ConversationState } from "@hugo/protocol";
import type { BlockRunner, Outcome } from "../runner.ts";

/** Blocks that change the conversation: contact, data, segments, state, routing. */

const NEXT: Outcome = { next: "next" };

export const setContact: BlockRunner<{ field: "nickname" | "email" | "phone"; value: string }> = {
  async run(ctx, o) {
    const value = ctx.render(o.value).trim();
    await ctx.updateMeta({ [o.field]: o.field === "email" ? value.toLowerCase() : value });
    ctx.log(`${o.field} = ${value}`);
    return NEXT;
  },
};

export const setData: BlockRunner<{ key: string; value: string }> = {
  async run(ctx, o) {
    const value = ctx.render(o.value);
    await ctx.updateMeta({ data: { [o.key]: value === "" ? null : value } });
    ctx.log(value === "" ? `data.${o.key} removed` : `data.${o.key} = ${value.slice(0, 200)}`);
    return NEXT;
  },
};

export const segments: BlockRunner<{ operation: "add" | "remove"; segments: string[] }> = {
  async run(ctx, o) {
    const current = ctx.conversation.meta.segments;
    const next =
      o.operation === "add"
        ? [...new Set([...current, ...o.segments])]
        : current.filter((s) => !o.segments.includes(s));
    await ctx.updateMeta({ segments: next });
    ctx.log(`segments: ${next.join(", ") || "(none)"}`);
    return NEXT;
  },
};

export const pushEvent: BlockRunner<{ name: string; data: { key: string; value: string }[] }> = {
  async run(ctx, o) {
    const data = Object.fromEntries(o.data.map((d) => [d.key, ctx.render(d.value)]));
    await ctx.pushEvent(o.name, data);
    return NEXT;
  },
};

export const setState: BlockRunner<{ state: ConversationState }> = {
  async run(ctx, o) {
    await ctx.setState(o.state);
    return NEXT;
  },
};

export const assign: BlockRunner<{ operator_id: string | null }> = {
  async run(ctx, o) {
    await ctx.assign(o.operator_id);
    return NEXT;
  },
};

export const escalate: BlockRunner<{ text: string }> = {
  async run(ctx, o) {
    const text = ctx.render(o.text).trim();
    if (text) await ctx.send({ type: "text", content: text });
    await ctx.setInbox(null);
    if (ctx.conversation.state !== "unresolved") await ctx.setState("unresolved");
    ctx.log("moved to the main inbox");
    return NEXT;
  },
};
