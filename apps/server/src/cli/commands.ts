import type { Command } from "./command.ts";
import { kbImport } from "./kb-import.ts";
import { kbReindex } from "./kb-reindex.ts";
import { migrate, serve } from "./serve.ts";
import { snippetAgent, snippetWorkflow } from "./snippet.ts";
import { tokenCreate, tokenList, tokenRevoke } from "./token.ts";
import { triggerAgent, triggerWorkflow } from "./trigger.ts";
import { workflowDeploy, workflowExport, workflowImport, workflowList } from "./workflow.ts";

/** Every `hugo` command, in the order `hugo --help` lists them. */
export const COMMANDS: Command[] = [
  serve,
  migrate,
  tokenCreate,
  tokenList,
  tokenRevoke,
  kbImport,
  kbReindex,
  workflowList,
  workflowExport,
  workflowImport,
  workflowDeploy,
  triggerAgent,
  triggerWorkflow,
  snippetWorkflow,
  snippetAgent,
];

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "Usage: hugo <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Every command takes --help, and --json for machine-readable output. Exit codes: 0 done,",
    "1 failed, 2 wrong command line. Commands that talk to a running Hugo read --url/--token, else",
    "$HUGO_URL/$HUGO_TOKEN.",
    "",
  ].join("\n");
}

/** The command named by the longest prefix of `words`, and the rest of the arguments. */
export function lookup(words: string[]): { command: Command; rest: string[] } | undefined {
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(" ");
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: words.slice(n) };
  }
  return undefined;
}
