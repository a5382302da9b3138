/**
 * Loaders for the public evaluation sets in `../shared/evaldata/<set>` (see each folder's README).
 * Every set becomes the same shape: documents to ingest, queries with graded relevance, and flags
 * saying whether the knowledge base can answer. Layout decisions a target must know are in eval/README.md.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

/** A document to ingest into the target's knowledge base. */
export interface EvalDoc {
  id: string;
  title: string;
  body: string;
  url?: string;
  /** "answer" for FAQ/Q&A items (title = question), "helpdesk" for articles/passages */
  kind: "answer" | "helpdesk";
  /** for sets with several KBs (mtragun) */
  kb?: string;
  /** intent sets (clinc150, banking77): the intent this training utterance belongs to */
  intent?: string;
}

/** A query with its graded relevance judgements and the expected answer-or-escalate outcome. */
export interface EvalQuery {
  id: string;
  text: string;
  /** multi-turn: earlier turns, oldest first */
  history?: { role: "user" | "agent"; text: string }[];
  /** docId → graded relevance; empty = unanswerable */
  relevant: Record<string, number>;
  answerable: boolean;
  /** for intent sets: the gold intent or "oos" */
  intent?: string;
  kb?: string;
  /** The right move is a clarifying question (mtragun UNDERSPECIFIED): left out of answer-vs-escalate metrics. */
  clarify?: boolean;
  /** The data set's own label (mtragun answerability, dstc10 knowledge-seeking…), for breakdowns. */
  label?: string;
}

/** A loaded evaluation set. */
export interface EvalSet {
  name: string;
  docs: EvalDoc[];
  queries: EvalQuery[];
  notes: string;
}

/** Every set this harness knows, in the order `all` runs them. */
export const SET_NAMES = [
  "scifact",
  "stackfaq",
  "clapnq",
  "conditionalqa",
  "mtragun",
  "dstc10-faq",
  "clinc150",
  "banking77",
] as const;
/** One of {@link SET_NAMES}. */
export type SetName = (typeof SET_NAMES)[number];

/** True when `name` is a known set. */
export function isSetName(name: string): name is SetName {
  return (SET_NAMES as readonly string[]).includes(name);
}

/** Loads one set from its folder into the common shape. */
export async function loadSet(name: string, folder: string): Promise<EvalSet> {
  if (!isSetName(name)) throw new Error(`unknown evaluation set "${name}" (known: ${SET_NAMES.join(", ")})`);
  const set = await LOADERS[name](folder);
  checkReferences(set);
  return set;
}

const LOADERS: Record<SetName, (folder: string) => Promise<EvalSet>> = {
  scifact: loadScifact,
  stackfaq: loadStackfaq,
  clapnq: loadClapnq,
  conditionalqa: loadConditionalqa,
  mtragun: loadMtragun,
  "dstc10-faq": loadDstc10,
  clinc150: loadClinc150,
  banking77: loadBanking77,
};

/** Hash-based split bucket in [0, 100), the same rule the evaldata folders use for their dev halves. */
export function splitBucket(salt: string, key: string): number {
  return Number.parseInt(createHash("sha256").update(`${salt}:${key}`).digest("hex").slice(0, 8), 16) % 100;
}

// ---------------------------------------------------------------- file helpers

async function readText(folder: string, file: string): Promise<string> {
  return readFile(path.join(folder, file), "utf8");
}

async function readJson<T>(folder: string, file: string, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(JSON.parse(await readText(folder, file)));
  if (!parsed.success) throw new Error(`${path.join(folder, file)}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function readJsonl<T>(folder: string, file: string, schema: z.ZodType<T>): Promise<T[]> {
  const lines = (await readText(folder, file)).split("\n");
  const rows: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const parsed = schema.safeParse(JSON.parse(line));
    if (!parsed.success)
      throw new Error(`${path.join(folder, file)}:${i + 1}: ${z.prettifyError(parsed.error)}`);
    rows.push(parsed.data);
  }
  return rows;
}

/** BEIR qrels: `query-id<TAB>corpus-id<TAB>score` with a header line. */
async function readQrels(folder: string, file: string): Promise<Map<string, Record<string, number>>> {
  const qrels = new Map<string, Record<string, number>>();
  const lines = (await readText(folder, file)).split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "" || (i === 0 && line.startsWith("query-id"))) continue;
    const [qid, did, score] = line.split("\t");
    const rel = Number(score);
    if (!qid || !did || !Number.isFinite(rel))
      throw new Error(`${path.join(folder, file)}:${i + 1}: bad line`);
    const row = qrels.get(qid) ?? {};
    qrels.set(qid, row);
    row[did] = rel;
  }
  return qrels;
}

/** Minimal RFC 4180 reader (quoted fields may hold commas, doubled quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Every judged document must exist, or a metric would silently count an impossible hit. */
function checkReferences(set: EvalSet): void {
  const ids = new Map<string, EvalDoc>();
  for (const doc of set.docs) {
    if (ids.has(doc.id)) throw new Error(`${set.name}: duplicate document id ${doc.id}`);
    ids.set(doc.id, doc);
  }
  for (const q of set.queries) {
    for (const docId of Object.keys(q.relevant)) {
      const doc = ids.get(docId);
      if (!doc) throw new Error(`${set.name}: query ${q.id} judges unknown document ${docId}`);
      if (q.kb !== doc.kb)
        throw new Error(`${set.name}: query ${q.id} (kb ${q.kb}) judges ${docId} (kb ${doc.kb})`);
    }
  }
}

const beirDoc = z.object({ _id: z.string(), title: z.string().default(""), text: z.string() });
const beirQuery = z.object({ _id: z.string(), text: z.string() });

// ---------------------------------------------------------------- retrieval sets

async function loadScifact(folder: string): Promise<EvalSet> {
  const [corpus, queries, qrels] = await Promise.all([
    readJsonl(folder, "corpus.jsonl", beirDoc),
    readJsonl(folder, "queries.train.jsonl", beirQuery),
    readQrels(folder, "qrels.train.tsv"),
  ]);
  return {
    name: "scifact",
    docs: corpus.map((d) => ({ id: d._id, title: d.title, body: d.text, kind: "helpdesk" })),
    // BEIR evaluates only queries that have judgements; all 809 train claims do.
    queries: queries
      .filter((q) => qrels.has(q._id))
      .map((q) => ({ id: q._id, text: q.text, relevant: qrels.get(q._id)!, answerable: true })),
    notes:
      "SciFact (BEIR) train claims as the public dev set; a sanity check of BM25 and the metric code, not customer support. " +
      "Published BM25 on the held-out test split: nDCG@10 0.679 (Anserini flat), 0.665 (BEIR paper).",
  };
}

async function loadStackfaq(folder: string): Promise<EvalSet> {
  const [corpus, queries, qrels] = await Promise.all([
    readJsonl(folder, "corpus.jsonl", beirDoc.extend({ thread: z.string() })),
    readJsonl(folder, "queries.dev.jsonl", beirQuery),
    readQrels(folder, "qrels.dev.tsv"),
  ]);
  return {
    name: "stackfaq",
    docs: corpus.map((d) => ({ id: d._id, title: d.title, body: d.text, kind: "answer" })),
    queries: queries.map((q) => ({
      id: q._id,
      text: q.text,
      relevant: qrels.get(q._id) ?? {},
      answerable: true,
    })),
    notes:
      "One document per question+answer item (719; id tNNN_aK, title = the thread's question); every item of the " +
      "query's thread is relevant. Reference: plain BM25 over title+answer ≈ MRR@10 0.75, Hit@5 0.87.",
  };
}

async function loadClapnq(folder: string): Promise<EvalSet> {
  const question = z.object({
    _id: z.string(),
    text: z.string(),
    answerable: z.boolean(),
    gold_passage: z.string().nullable(),
  });
  const [passages, questions] = await Promise.all([
    readJsonl(folder, "passages.jsonl", beirDoc),
    readJsonl(folder, "questions.dev.jsonl", question),
  ]);
  return {
    name: "clapnq",
    docs: passages.map((p) => ({ id: p._id, title: p.title, body: p.text, kind: "helpdesk" })),
    queries: questions.map((q) => ({
      id: q._id,
      text: q.text,
      relevant: q.answerable && q.gold_passage ? { [q.gold_passage]: 1 } : {},
      answerable: q.answerable,
      label: q.answerable ? "answerable" : "unanswerable",
    })),
    notes:
      "597 Wikipedia passages; unanswerable questions always have a topically related (non-answering) passage " +
      "in the KB, so hand-off is hard. Retrieval metrics use the answerable questions only.",
  };
}

/** ConditionalQA pages are one HTML element per line; a help-center article is closer to Markdown. */
export function htmlLinesToMarkdown(lines: string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    const tag = /^<(h1|h2|h3|li|tr|p)\b[^>]*>/i.exec(line)?.[1]?.toLowerCase();
    const text = line
      .replace(/<[^>]+>/g, "")
      .replace(/\s+/g, " ")
      .trim();
    if (text === "") continue;
    if (tag === "h1") out.push(`\n# ${text}`);
    else if (tag === "h2") out.push(`\n## ${text}`);
    else if (tag === "h3") out.push(`\n### ${text}`);
    else if (tag === "li") out.push(`- ${text}`);
    else if (tag === "tr") out.push(`| ${text} |`);
    else out.push(text);
  }
  return out.join("\n").trim();
}

async function loadConditionalqa(folder: string): Promise<EvalSet> {
  const page = z.object({ _id: z.string(), title: z.string(), lines: z.array(z.string()) });
  const question = z.object({
    id: z.string(),
    url: z.string(),
    scenario: z.string(),
    question: z.string(),
    not_answerable: z.boolean(),
  });
  const [pages, questions] = await Promise.all([
    readJsonl(folder, "documents.dev.jsonl", page),
    readJson(folder, "questions.dev.json", z.array(question)),
  ]);
  return {
    name: "conditionalqa",
    docs: pages.map((p) => ({
      id: p._id,
      title: p.title,
      body: htmlLinesToMarkdown(p.lines),
      url: p._id,
      kind: "helpdesk",
    })),
    queries: questions.map((q) => ({
      id: q.id,
      // A visitor writes the situation and the question in one message.
      text: `${q.scenario.trim()} ${q.question.trim()}`,
      relevant: q.not_answerable ? {} : { [q.url]: 1 },
      answerable: !q.not_answerable,
      label: q.not_answerable ? "not_answerable" : "answerable",
    })),
    notes:
      "59 gov.uk pages (id = URL, body = the page's HTML lines as Markdown); query = scenario + question. " +
      "Page-level relevance only (the evidence lines are not scored). Not-answerable questions have no relevant page.",
  };
}

const MTRAG_KBS = ["clapnq", "fiqa", "govt", "ibmcloud"] as const;

async function loadMtragun(folder: string): Promise<EvalSet> {
  const task = z.object({
    task_id: z.string(),
    domain: z.enum(MTRAG_KBS),
    answerability: z.enum(["ANSWERABLE", "PARTIAL", "UNANSWERABLE", "UNDERSPECIFIED"]),
    input: z.array(z.object({ speaker: z.enum(["user", "agent"]), text: z.string() })).min(1),
    reference_passages: z.array(z.string()),
  });
  const perKb = await Promise.all(
    MTRAG_KBS.map(async (kb) => {
      const passages = await readJsonl(
        folder,
        `passages.${kb}.jsonl`,
        z.object({ _id: z.string(), text: z.string() }),
      );
      return passages.map((p): EvalDoc => {
        // Wikipedia and gov passages start with their page title on a line of its own; the others with "\n".
        const nl = p.text.indexOf("\n");
        const first = nl > 0 ? p.text.slice(0, nl).trim() : "";
        const hasTitle = first !== "" && first.length <= 200;
        return {
          id: p._id,
          title: hasTitle ? first : "",
          body: (hasTitle ? p.text.slice(nl + 1) : p.text).trim(),
          kind: "helpdesk",
          kb,
        };
      });
    }),
  );
  const tasks = await readJsonl(folder, "tasks.dev.jsonl", task);
  return {
    name: "mtragun",
    docs: perKb.flat(),
    queries: tasks.map((t) => {
      const last = t.input[t.input.length - 1]!;
      if (last.speaker !== "user")
        throw new Error(`mtragun: task ${t.task_id} does not end with a user turn`);
      const unanswerable = t.answerability === "UNANSWERABLE";
      return {
        id: t.task_id,
        text: last.text,
        history: t.input.slice(0, -1).map((turn) => ({ role: turn.speaker, text: turn.text })),
        relevant: unanswerable ? {} : Object.fromEntries(t.reference_passages.map((id) => [id, 1])),
        answerable: !unanswerable,
        clarify: t.answerability === "UNDERSPECIFIED",
        kb: t.domain,
        label: t.answerability,
      };
    }),
    notes:
      "Four KBs (kb = clapnq, fiqa, govt, ibmcloud) made only of the passages the 507 tasks cite, so retrieval is " +
      "far easier than MTRAG's published full-corpus numbers. PARTIAL counts as answerable; UNDERSPECIFIED " +
      "(clarify) is scored for retrieval when it has references but left out of answer-vs-escalate.",
  };
}

// ---------------------------------------------------------------- dialogue FAQ

async function loadDstc10(folder: string): Promise<EvalSet> {
  const knowledgeSchema = z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        name: z.string().nullable(),
        docs: z.record(z.string(), z.object({ title: z.string(), body: z.string() })),
      }),
    ),
  );
  const turn = z.object({ speaker: z.enum(["U", "S"]), text: z.string() });
  const label = z.object({
    target: z.boolean(),
    knowledge: z
      .array(
        z.object({ domain: z.string(), entity_id: z.union([z.number(), z.string()]), doc_id: z.number() }),
      )
      .optional(),
  });
  const [knowledge, logs, labels, index] = await Promise.all([
    readJson(folder, "knowledge.json", knowledgeSchema),
    readJson(folder, "val.dev.logs.json", z.array(z.array(turn).min(1))),
    readJson(folder, "val.dev.labels.json", z.array(label)),
    readJson(folder, "val.dev.index.json", z.array(z.number())),
  ]);
  if (logs.length !== labels.length || logs.length !== index.length)
    throw new Error("dstc10-faq: logs, labels and index differ in length");
  const docs: EvalDoc[] = [];
  for (const [domain, entities] of Object.entries(knowledge)) {
    for (const [entityId, entity] of Object.entries(entities)) {
      // FAQ questions say "this location"; without the entity name no retriever could tell 12,039 apart.
      const prefix = entity.name ?? domain.charAt(0).toUpperCase() + domain.slice(1);
      for (const [docId, doc] of Object.entries(entity.docs))
        docs.push({
          id: dstcDocId(domain, entityId, docId),
          title: `${prefix}: ${doc.title}`,
          body: doc.body,
          kind: "answer",
        });
    }
  }
  const queries = logs.map((log, i): EvalQuery => {
    const lab = labels[i]!;
    const last = log[log.length - 1]!;
    const relevant: Record<string, number> = {};
    for (const k of lab.knowledge ?? [])
      relevant[dstcDocId(k.domain, String(k.entity_id), String(k.doc_id))] = 1;
    return {
      id: `val-${index[i]}`,
      text: last.text,
      history: log.slice(0, -1).map((t) => ({ role: t.speaker === "U" ? "user" : "agent", text: t.text })),
      relevant: lab.target ? relevant : {},
      answerable: lab.target,
      label: lab.target ? "knowledge-seeking" : "not-knowledge-seeking",
    };
  });
  return {
    name: "dstc10-faq",
    docs,
    queries,
    notes:
      "12,039 FAQ snippets, id <domain>/<entity_id>/<doc_id> (entity '*' = domain-wide), title = '<entity name>: <question>'. " +
      "Queries are the last (ASR-noisy) user turn with the dialogue as history; answerable = knowledge-seeking turn " +
      "(the others need an API or small talk, not the KB). Published figures are on the whole 263-instance val set.",
  };
}

function dstcDocId(domain: string, entityId: string, docId: string): string {
  return `${domain}/${entityId}/${docId}`;
}

// ---------------------------------------------------------------- intent sets

function intentDoc(intent: string, n: number | string, utterance: string): EvalDoc {
  return {
    id: `${intent}#${n}`,
    title: utterance,
    // The intent's name stands in for the article it would link to; it is the same for all its variants.
    body: intent.replace(/_/g, " "),
    kind: "answer",
    intent,
  };
}

function relevantByIntent(docs: EvalDoc[]): Map<string, Record<string, number>> {
  const byIntent = new Map<string, Record<string, number>>();
  for (const doc of docs) {
    if (!doc.intent) continue;
    const row = byIntent.get(doc.intent) ?? {};
    byIntent.set(doc.intent, row);
    row[doc.id] = 1;
  }
  return byIntent;
}

async function loadClinc150(folder: string): Promise<EvalSet> {
  const pairs = z.array(z.tuple([z.string(), z.string()]));
  const data = await readJson(
    folder,
    "data_full.train_val.json",
    z.object({ train: pairs, val: pairs, oos_val: pairs }),
  );
  const seen = new Map<string, number>();
  const docs = data.train.map(([text, intent]) => {
    const n = seen.get(intent) ?? 0;
    seen.set(intent, n + 1);
    return intentDoc(intent, n, text);
  });
  const relevant = relevantByIntent(docs);
  const queries: EvalQuery[] = [
    ...data.val.map(([text, intent], i) => {
      const rel = relevant.get(intent);
      if (!rel) throw new Error(`clinc150: val intent ${intent} has no training utterances`);
      return { id: `val-${i}`, text, relevant: rel, answerable: true, intent, label: "in-scope" };
    }),
    ...data.oos_val.map(([text], i) => ({
      id: `oos-val-${i}`,
      text,
      relevant: {},
      answerable: false,
      intent: "oos",
      label: "oos",
    })),
  ];
  return {
    name: "clinc150",
    docs,
    queries,
    notes:
      "One document per training utterance (15,000; id <intent>#<n>, title = utterance, body = intent name): " +
      "a nearest-neighbour classifier, the top hit's intent is the prediction. Queries: val (3,000 in-scope) + " +
      "oos_val (100, answerable = false). oos_train is not used. Published numbers are on the held-out test split.",
  };
}

/** Banking77 ships only its train split here: this share of it becomes queries, by a hash of the text. */
export const BANKING77_QUERY_PERCENT = 20;

async function loadBanking77(folder: string): Promise<EvalSet> {
  const [header, ...rows] = parseCsv(await readText(folder, "train.csv")).filter((r) => r.join("") !== "");
  if (header?.[0] !== "text" || header[1] !== "category")
    throw new Error("banking77: train.csv lacks text,category");
  const categories = await readJson(folder, "categories.json", z.array(z.string()));
  const known = new Set(categories);
  const docs: EvalDoc[] = [];
  const held: { row: number; text: string; intent: string }[] = [];
  for (const [row, r] of rows.entries()) {
    const [text, intent] = r;
    if (text === undefined || intent === undefined || !known.has(intent))
      throw new Error(`banking77: train.csv row ${row + 2} is malformed`);
    // Hashing the text (not the row) keeps any repeated question on one side of the split.
    if (splitBucket("banking77", text) < BANKING77_QUERY_PERCENT) held.push({ row, text, intent });
    else docs.push(intentDoc(intent, row, text));
  }
  const relevant = relevantByIntent(docs);
  return {
    name: "banking77",
    docs,
    queries: held.map((h) => ({
      id: `train-${h.row}`,
      text: h.text,
      relevant: relevant.get(h.intent) ?? {},
      answerable: true,
      intent: h.intent,
      label: "in-scope",
    })),
    notes:
      `train.csv split by sha256("banking77:"+text) first 8 hex digits % 100 < ${BANKING77_QUERY_PERCENT} → query, ` +
      "else document (id <intent>#<csv row index>, title = utterance, body = intent name). No out-of-scope class.",
  };
}
