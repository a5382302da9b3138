import { z } from "zod";
import { ScenarioId, SessionId } from "./ids.ts";

/** Query of `GET /api/analytics`: a window (default the last 30 days) cut into UTC days or weeks. */
export const AnalyticsQuery = z
  .strictObject({
    /** Start of the window, ms since the epoch (default: 30 days before `to`). */
    from: z.coerce.number().int().nonnegative().optional(),
    /** End of the window, ms since the epoch, exclusive (default: now). */
    to: z.coerce.number().int().positive().optional(),
    interval: z.enum(["day", "week"]).default("day"),
    /** How many unanswered questions to list. */
    top: z.coerce.number().int().min(1).max(100).default(10),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, {
    message: "must be before `to`",
    path: ["from"],
  });
export type AnalyticsQuery = z.infer<typeof AnalyticsQuery>;

const Count = z.number().int().nonnegative();

export const AnalyticsBucket = z.object({
  /** Start of the bucket (ms, UTC). */
  start: z.number().int(),
  conversations: Count,
  answered: Count,
  escalated: Count,
  routed: Count,
  failed: Count,
  runs: Count,
  runs_completed: Count,
});

export const Analytics = z.object({
  from: z.number().int(),
  to: z.number().int(),
  interval: z.enum(["day", "week"]),
  totals: z.object({
    conversations: Count,
    /** Agent turns by outcome. */
    answered: Count,
    escalated: Count,
    routed: Count,
    failed: Count,
    /** Share of the agent's decided turns it answered itself (null without turns). */
    handled_rate: z.number().nullable(),
    runs: Count,
    runs_completed: Count,
  }),
  series: z.array(AnalyticsBucket),
  workflows: z.array(
    z.object({
      workflow_id: ScenarioId,
      name: z.string(),
      runs: Count,
      completed: Count,
      failed: Count,
      cancelled: Count,
      /** Still running or waiting for the visitor. */
      active: Count,
      /** Completed over ended runs (null until one ends). */
      completion_rate: z.number().nullable(),
    }),
  ),
  /** What visitors asked that the agent handed to a human, most frequent first. */
  unanswered: z.array(
    z.object({
      question: z.string(),
      count: Count,
      last_at: z.number().int(),
      /** The latest conversation it came from. */
      session_id: SessionId,
    }),
  ),
});
export type Analytics = z.infer<typeof Analytics>;
