import type { RoutingRule } from "@hugo/protocol";
import type { Analyzer } from "./knowledge/analyze.ts";

/** Share of a rule's situation terms the message must hold to match it, offline. */
export const RULE_THRESHOLD = 0.6;

/**
 * The first routing rule whose situation the visitor's message describes, offline: the message holds
 * most of the description's analysed terms (stems, stop words out) — at least two, unless the
 * description has only one. An LLM provider, when configured, will judge this instead.
 */
export function matchRule(
  rules: readonly RoutingRule[],
  message: string,
  analyzer: Analyzer,
): { rule: RoutingRule; similarity: number } | undefined {
  const said = new Set(analyzer.terms(message));
  if (said.size === 0) return undefined;
  for (const rule of rules) {
    const described = new Set(analyzer.terms(rule.description));
    if (described.size === 0) continue;
    const shared = [...described].filter((t) => said.has(t)).length;
    const similarity = shared / described.size;
    if (shared >= Math.min(2, described.size) && similarity >= RULE_THRESHOLD) return { rule, similarity };
  }
  return undefined;
}
