import fs from "node:fs";
import path from "node:path";
import { type HugoClient, HugoError } from "@hugo/client";
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  type Command,
  type Context,
  connection,
  optionList,
  UsageError,
} from "./command.ts";
import { remote } from "./remote.ts";

/**
 * `hugo kb import <folder|file.jsonl>`: sends a folder's documents (.md, .txt, .html, .pdf) and
 * JSON Lines files (one knowledge source per line, as `POST /api/knowledge/sources` takes it) to a
 * running Hugo, in batches, through `POST /api/knowledge/import`. It talks HTTP, so it imports into
 * a remote Hugo as well as a local one; the token needs the `knowledge:write` scope.
 */

const DOCUMENT_TYPES = new Set([".md", ".markdown", ".txt", ".html", ".htm", ".pdf"]);
const LINE_TYPES = new Set([".jsonl", ".ndjson"]);
/** The server's per-file limit (10 MB of file travels as ~14 MB of base64). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

/** One source to send, and where it came from (for the report). */
interface Item {
  origin: string;
  source: Record<string, unknown>;
}

interface Outcome {
  created: { origin: string; source_id: string; passages: number }[];
  failed: { origin: string; reason: string; message: string }[];
  skipped: { origin: string; message: string }[];
}

/** `hugo kb import`: see the module comment. */
export const kbImport: Command = {
  name: "kb import",
  summary: "Add a folder's documents or a JSON Lines file to a running Hugo's knowledge base.",
  synopsis: "<folder|file.jsonl> [options]",
  help: `  A folder: every .md, .markdown, .txt, .html, .htm and .pdf file becomes a document source (its
  path inside the folder is its name); every .jsonl or .ndjson file adds one source per line.
  The token needs the knowledge:write scope. Exit code 1 when any source failed (listed by file
  and line); the others are imported.

${optionList([
  ...CONNECTION_HELP,
  ["--batch <n>", "sources per request, 1–500 (default 50)"],
  ["--locale <tag>", "the documents' language (e.g. fr), when not English"],
])}`,
  options: {
    ...CONNECTION_OPTIONS,
    batch: { type: "string" },
    locale: { type: "string" },
  },
  async run(ctx) {
    const options = parse(ctx);
    const outcome: Outcome = { created: [], failed: [], skipped: [] };
    const items = collect(options.target, options.locale, outcome);
    const progress = ctx.progress(items.length, "sources");
    const client = remote(ctx);
    for (let i = 0; i < items.length; i += options.batch) {
      let batch = items.slice(i, i + options.batch);
      for (;;) {
        if (batch.length === 0) break;
        const answer = await send(client, batch);
        if ("error" in answer) {
          // One malformed source refuses the whole batch, naming it (`sources.N…`): report it, send the rest.
          const at = answer.error.field && /^sources\.(\d+)/.exec(answer.error.field);
          const index = at ? Number(at[1]) : -1;
          if (batch[index]) {
            outcome.failed.push({
              origin: batch[index].origin,
              reason: answer.error.reason,
              message: answer.error.message,
            });
            batch = batch.filter((_, k) => k !== index);
            continue;
          }
          // Unreachable (after the client's retries): the rest would fail alike; list it all and stop.
          const rest =
            answer.error.reason === "unreachable" ? [...batch, ...items.slice(i + options.batch)] : batch;
          for (const item of rest) outcome.failed.push({ origin: item.origin, ...answer.error });
          if (answer.error.reason === "unreachable") i = items.length;
          break;
        }
        // `created` is the batch in order, less the sources listed in `failed` (by their index).
        const failedAt = new Set(answer.failed.map((f) => f.index));
        const kept = batch.filter((_, k) => !failedAt.has(k));
        for (const [k, source] of answer.created.entries()) {
          outcome.created.push({
            origin: kept[k]?.origin ?? "",
            source_id: source.source_id,
            passages: source.passages,
          });
        }
        for (const f of answer.failed)
          outcome.failed.push({
            origin: batch[f.index]?.origin ?? `#${f.index}`,
            reason: f.reason,
            message: f.message,
          });
        break;
      }
      progress.advance(Math.min(options.batch, items.length - i));
    }
    progress.done();
    ctx.print(outcome, (o) => {
      const passages = o.created.reduce((n, c) => n + c.passages, 0);
      return [
        `Imported ${o.created.length} sources (${passages} passages).`,
        ...o.skipped.map((s) => `  skipped ${s.origin}: ${s.message}`),
        ...o.failed.map((f) => `  failed  ${f.origin}: ${f.reason} — ${f.message}`),
        ...(o.failed.length > 0 ? [`${o.failed.length} failed.`] : []),
      ];
    });
    return outcome.failed.length > 0 ? 1 : 0;
  },
};

function parse(ctx: Context) {
  if (ctx.positionals.length !== 1) throw new UsageError("name one folder or .jsonl file to import");
  const target = path.resolve(ctx.positionals[0]!);
  if (!fs.existsSync(target)) throw new UsageError(`${ctx.positionals[0]} does not exist`);
  connection(ctx); // checked here: a missing token is a usage error before any file is read
  const raw = ctx.string("batch");
  const batch = Number(raw ?? 50);
  if (!Number.isInteger(batch) || batch < 1 || batch > 500)
    throw new UsageError(`--batch must be a whole number from 1 to 500 (got ${raw})`);
  return { target, batch, locale: ctx.string("locale") };
}

/** The sources a folder or a file holds, in a stable order; unreadable lines and files are skipped with a reason. */
function collect(target: string, locale: string | undefined, outcome: Outcome): Item[] {
  const root = fs.statSync(target).isDirectory() ? target : path.dirname(target);
  const files = fs.statSync(target).isDirectory()
    ? (fs.readdirSync(target, { recursive: true, withFileTypes: true }) as fs.Dirent[])
        .filter((d) => d.isFile())
        .map((d) => path.join(d.parentPath, d.name))
        .sort()
    : [target];
  const items: Item[] = [];
  for (const file of files) {
    const name = path.relative(root, file);
    const ext = path.extname(file).toLowerCase();
    if (LINE_TYPES.has(ext)) {
      fs.readFileSync(file, "utf8")
        .split(/\r?\n/)
        .forEach((line, i) => {
          if (line.trim() === "") return;
          try {
            const source = JSON.parse(line) as unknown;
            if (typeof source !== "object" || source === null || Array.isArray(source))
              throw new Error("not a JSON object");
            items.push({ origin: `${name}:${i + 1}`, source: source as Record<string, unknown> });
          } catch (error) {
            outcome.failed.push({
              origin: `${name}:${i + 1}`,
              reason: "invalid_json",
              message: (error as Error).message,
            });
          }
        });
    } else if (DOCUMENT_TYPES.has(ext)) {
      const size = fs.statSync(file).size;
      if (size > MAX_FILE_BYTES) {
        outcome.skipped.push({ origin: name, message: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` });
        continue;
      }
      items.push({
        origin: name,
        source: {
          kind: "document",
          filename: name.slice(-255),
          content_base64: fs.readFileSync(file).toString("base64"),
          ...(locale ? { locale } : {}),
        },
      });
    } else if (!path.basename(file).startsWith(".")) {
      outcome.skipped.push({ origin: name, message: "not a document or JSON Lines file" });
    }
  }
  return items;
}

type ImportAnswer =
  | {
      created: { source_id: string; passages: number }[];
      failed: { index: number; reason: string; message: string }[];
    }
  | { error: { reason: string; message: string; field?: string } };

/** One batch through the typed client; a refusal comes back as `error` (the whole batch refused). */
async function send(client: HugoClient, batch: Item[]): Promise<ImportAnswer> {
  try {
    const answer = await client.knowledge.importSources({
      sources: batch.map((item) => item.source) as Parameters<
        HugoClient["knowledge"]["importSources"]
      >[0]["sources"],
    });
    return { created: answer.created, failed: answer.failed };
  } catch (error) {
    if (!(error instanceof HugoError)) throw error;
    const reason = error.status === 0 ? "unreachable" : error.code;
    return { error: { reason, message: error.message, ...(error.field ? { field: error.field } : {}) } };
  }
}
