import type { BlockRunner } from "../runner.ts";
import * as c from "./conditions.ts";
import * as v from "./conversation.ts";
import * as f from "./flow.ts";
import { http } from "./http.ts";
import * as m from "./messages.ts";

/** Every block kind's runner, by kind; the definitions are in @hugo/protocol (workflow-blocks.ts). */
export const RUNNERS: Record<string, BlockRunner> = {
  "start.code": f.start,
  "start.message": f.start,
  "start.message_matches": f.start,
  "start.answer": f.start,
  "start.state_changed": f.start,
  "start.url_changed": f.start,
  "start.meta_updated": f.start,
  "start.event": f.start,
  "action.typing": m.typing,
  "action.text": m.text,
  "action.picker": m.picker,
  "action.field": m.field,
  "action.file": m.file,
  "action.animation": m.animation,
  "action.carousel": m.carousel,
  "action.note": m.note,
  "action.set_contact": v.setContact,
  "action.set_data": v.setData,
  "action.segments": v.segments,
  "action.push_event": v.pushEvent,
  "action.rating": m.rating,
  "action.set_state": v.setState,
  "action.wait": m.wait,
  "action.wait_answer": m.waitAnswer,
  "action.assign": v.assign,
  "action.escalate": v.escalate,
  "action.http": http,
  "action.agent": f.agent,
  "action.start_workflow": f.startWorkflow,
  "action.end": f.end,
  "condition.is_new": c.isNew,
  "condition.time_since": c.timeSince,
  "condition.segments": c.segmentsInclude,
  "condition.compare": c.compare,
  "condition.page_url": c.pageUrl,
  "condition.business_hours": c.businessHours,
  "condition.email_known": c.emailKnown,
  "condition.ab_split": c.abSplit,
};
