import type { CompareOperator } from "@hugo/protocol";
import type { BlockRunner, Outcome } from "../runner.ts";
import { compareValues, pickWeighted, urlMatches, withinBusinessHours } from "../values.ts";

/** Condition blocks: each takes its `true` or `false` output (A/B splits: a branch's). */

const branch = (value: boolean): Outcome => ({ next: value ? "true" : "false" });

export const isNew: BlockRunner<Record<string, never>> = {
  async run(ctx) {
    return branch(!(await ctx.hadOperatorMessage()));
  },
};

export const timeSince: BlockRunner<{
  of: "any" | "visitor" | "operator";
  operator: "more_than" | "less_than";
  duration_ms: number;
}> = {
  async run(ctx, o) {
    const last = await ctx.lastMessageAt(
      o.of === "any" ? undefined : o.of === "visitor" ? "user" : "operator",
    );
    // No such message at all counts as "long ago".
    const elapsed = last === undefined ? Number.POSITIVE_INFINITY : ctx.now - last;
    ctx.log(
      last === undefined ? "no such message" : `${Math.round(elapsed / 1000)} s since the last message`,
    );
    return branch(o.operator === "more_than" ? elapsed > o.duration_ms : elapsed < o.duration_ms);
  },
};

export const segmentsInclude: BlockRunner<{ mode: "any" | "all" | "none"; segments: string[] }> = {
  async run(ctx, o) {
    const has = new Set(ctx.conversation.meta.segments);
    const hits = o.segments.filter((s) => has.has(s)).length;
    return branch(o.mode === "any" ? hits > 0 : o.mode === "all" ? hits === o.segments.length : hits === 0);
  },
};

export const compare: BlockRunner<{
  left: string;
  operator: CompareOperator;
  right: string;
  case_sensitive: boolean;
}> = {
  async run(ctx, o) {
    const left = ctx.render(o.left);
    const right = ctx.render(o.right);
    const result = compareValues(left, o.operator, right, o.case_sensitive);
    ctx.log(`"${left.slice(0, 100)}" ${o.operator} "${right.slice(0, 100)}" → ${result}`);
    return branch(result);
  },
};

export const pageUrl: BlockRunner<{ mode: "equals" | "contains" | "starts_with" | "regex"; value: string }> =
  {
    async run(ctx, o) {
      const url = await ctx.pageUrl();
      ctx.log(url ? `page ${url.slice(0, 300)}` : "page unknown");
      return branch(url !== undefined && urlMatches(url, o.mode, o.value));
    },
  };

export const businessHours: BlockRunner<{
  timezone: string;
  hours: { days: number[]; from: string; to: string }[];
}> = {
  async run(ctx, o) {
    return branch(withinBusinessHours(ctx.now, o.timezone, o.hours));
  },
};

export const emailKnown: BlockRunner<Record<string, never>> = {
  async run(ctx) {
    return branch(ctx.conversation.meta.email !== "");
  },
};

export const abSplit: BlockRunner<{ branches: { name: string; weight: number }[] }> = {
  async run(ctx, o) {
    const name = pickWeighted(o.branches, ctx.random());
    ctx.log(`branch ${name}`);
    return { next: name };
  },
};
