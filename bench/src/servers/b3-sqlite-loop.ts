/**
 * B3: a raw better-sqlite3 insert loop, no HTTP: B2's message-sized row, one autocommitted insert per
 * iteration (WAL, synchronous=NORMAL, a temp file). The floor cost of "store one bot message
 * durably", which every workflow send-text step pays at least once.
 *
 * Runs BENCH_B3_ROUNDS rounds of BENCH_B3_ROWS inserts and reports each round's rows/s over IPC.
 */
import { BASELINE_SESSION, BASELINE_WEBSITE, openMessageTable } from "./message-table.ts";

const file = process.env.BENCH_DB;
if (!file) throw new Error("BENCH_DB must name the SQLite file");
const rows = Number(process.env.BENCH_B3_ROWS ?? 20_000);
const rounds = Number(process.env.BENCH_B3_ROUNDS ?? 3);
const table = openMessageTable(file);
const input = { type: "text", from: "operator", origin: "chat", content: process.env.BENCH_CONTENT ?? "" };

// Warm-up: JIT and the file's first pages.
for (let i = 0; i < Math.min(1000, rows); i++) table.store(BASELINE_WEBSITE, BASELINE_SESSION, input);
const perSecond: number[] = [];
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  for (let i = 0; i < rows; i++) table.store(BASELINE_WEBSITE, BASELINE_SESSION, input);
  perSecond.push(rows / ((performance.now() - started) / 1000));
}
table.db.close();
process.send?.({ bench: "b3", rows, perSecond }, () => process.exit(0));
