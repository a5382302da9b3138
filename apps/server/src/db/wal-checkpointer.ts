import { Worker } from "node:worker_threads";

/**
 * Checkpoints the SQLite WAL from a worker thread. With SQLite's automatic checkpoint, the commit
 * that crosses the threshold copies the WAL back into the database and fsyncs it on the main
 * thread, stalling every request behind it. The worker does that work on its own connection
 * (PASSIVE: it never blocks the writer), so the main connection's automatic checkpoint only acts as
 * a safety net at a much larger threshold. database.ts starts it only once the WAL shows sustained
 * writes, so an idle server does not pay for a second isolate.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 5000");
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
}, workerData.intervalMs);
parentPort.on("message", (m) => {
  if (m === "close") { clearInterval(timer); try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {} db.close(); process.exit(0); }
});
`;

export interface WalCheckpointer {
  close(): Promise<void>;
}

export function startWalCheckpointer(file: string, intervalMs = 50): WalCheckpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, intervalMs, module: import.meta.resolve("better-sqlite3").replace(/^file:\/\//, "") },
    // It only runs a pragma: keep its isolate small.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2, stackSizeMb: 1 },
  });
  worker.unref();
  return {
    close: () =>
      new Promise<void>((resolve) => {
        worker.once("exit", () => resolve());
        worker.postMessage("close");
      }),
  };
}
