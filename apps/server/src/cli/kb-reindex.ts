import { HugoError } from "@hugo/client";
import { SOURCE_KINDS, type Source, type SourceKind } from "@hugo/protocol";
import { CONNECTION_HELP, CONNECTION_OPTIONS, type Command, optionList, UsageError } from "./command.ts";
import { remote } from "./remote.ts";

/** Requests in flight at once: re-indexing a web page waits on its site, a document on the CPU. */
const CONCURRENCY = 4;

/** `hugo kb reindex`: reads every source (or the named ones) again and rebuilds its passages. */
export const kbReindex: Command = {
  name: "kb reindex",
  summary: "Re-read knowledge sources (web pages are fetched again) and rebuild their passages.",
  synopsis: "[source_id]... [--kind <kind>] [options]",
  help: `  Without ids, every source of the website (or of one --kind). A source whose re-index fails
  keeps its previous passages; the failures are listed and the exit code is 1.

${optionList([["--kind <kind>", `only sources of this kind: ${SOURCE_KINDS.join(", ")}`], ...CONNECTION_HELP])}`,
  options: { ...CONNECTION_OPTIONS, kind: { type: "string" } },
  async run(ctx) {
    const kind = ctx.string("kind");
    if (kind !== undefined && !SOURCE_KINDS.includes(kind as SourceKind))
      throw new UsageError(`--kind must be one of ${SOURCE_KINDS.join(", ")} (got ${kind})`);
    const client = remote(ctx);
    let ids = ctx.positionals;
    if (ids.length === 0) {
      const all: Source[] = [];
      for (let before: string | undefined; ; ) {
        const page = await client.knowledge.listSources({
          limit: 200,
          ...(before ? { before } : {}),
          ...(kind ? { kind: kind as SourceKind } : {}),
        });
        all.push(...page);
        if (page.length < 200) break;
        before = page.at(-1)!.source_id;
      }
      ids = all.map((s) => s.source_id);
    }
    const outcome = {
      reindexed: [] as { source_id: string; title: string; passages: number }[],
      failed: [] as { source_id: string; reason: string; message: string }[],
    };
    const progress = ctx.progress(ids.length, "sources");
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ids.length; i = next++) {
        const id = ids[i]!;
        try {
          const source = await client.knowledge.reindexSource(id);
          if (source.status === "failed")
            outcome.failed.push({
              source_id: id,
              reason: "reindex_failed",
              message: source.error ?? "failed",
            });
          else outcome.reindexed.push({ source_id: id, title: source.title, passages: source.passages });
        } catch (error) {
          // An unreachable server fails every request alike: stop rather than list each.
          if (!(error instanceof HugoError) || error.status === 0) throw error;
          outcome.failed.push({ source_id: id, reason: error.code, message: error.message });
        }
        progress.advance();
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
    progress.done();
    ctx.print(outcome, (o) => [
      `Re-indexed ${o.reindexed.length} sources (${o.reindexed.reduce((n, s) => n + s.passages, 0)} passages).`,
      ...o.failed.map((f) => `  failed ${f.source_id}: ${f.reason} — ${f.message}`),
      ...(o.failed.length > 0 ? [`${o.failed.length} failed.`] : []),
    ]);
    return outcome.failed.length > 0 ? 1 : 0;
  },
};
