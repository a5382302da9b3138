import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freshPostgres, TEST_PG_URL, type TestDatabase } from "../../test/databases.ts";
import type { Stores } from "../core/ports.ts";
import { createStores } from "../db/stores.ts";
import { PgJobQueue, workerSchemaFor } from "./pg-queue.ts";

/** What only the PostgreSQL queue has: its schema name and its queue-row cleanup. */
describe("PostgreSQL job queue", () => {
  let tdb: TestDatabase;
  let stores: Stores;
  let queue: PgJobQueue;

  beforeEach(async () => {
    tdb = await freshPostgres();
    stores = createStores(tdb.database.db);
    queue = await PgJobQueue.create(tdb.database.pool!, { concurrency: 4, pollIntervalMs: 100 });
  });

  afterEach(async () => {
    await queue?.stop();
    await tdb?.drop();
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    await client.query(`drop schema if exists "${queue.schema}" cascade`);
    await client.end();
  });

  const queueNames = async () => {
    const { rows } = await tdb.database.pool!.query<{ queue_name: string }>(
      `select queue_name from "${queue.schema}"._private_job_queues order by queue_name`,
    );
    return rows.map((r) => r.queue_name);
  };

  it("keeps its schema beside the database's own", async () => {
    expect(workerSchemaFor("public")).toBe("graphile_worker");
    expect(workerSchemaFor(null)).toBe("graphile_worker");
    expect(workerSchemaFor("tenant_a")).toBe("tenant_a_graphile_worker");
    const { rows } = await tdb.database.pool!.query<{ s: string }>("select current_schema() as s");
    expect(queue.schema).toBe(`${rows[0]!.s}_graphile_worker`);
  });

  it("deletes the queue rows of finished conversations and keeps those with waiting jobs", async () => {
    let done = 0;
    queue.start({ step: async () => void done++ });
    for (let i = 0; i < 30; i++)
      await queue.enqueue(stores, { kind: "step", payload: {}, queueKey: `s${i}` });
    await queue.enqueue(stores, { kind: "not-handled-here", payload: {}, queueKey: "waiting" });
    while (done < 30) await sleep(20);
    await sleep(200); // completions are written after the handler returns

    expect((await queueNames()).length).toBe(31);
    expect(await queue.collectEmptyQueues()).toBe(30);
    expect(await queueNames()).toEqual(["waiting"]);
  });

  it("never strands a job whose enqueuing transaction is still open during cleanup", async () => {
    const ran: string[] = [];
    queue.start({ step: async (job) => void ran.push(job.queueKey ?? "") });
    await queue.enqueue(stores, { kind: "step", payload: {}, queueKey: "k" });
    while (ran.length < 1) await sleep(20);
    await sleep(200);

    // The row for "k" exists and is empty; a transaction now enqueues into it and stays open while
    // the cleanup runs. The cleanup must not delete the row the uncommitted job points at.
    let collected = -1;
    await stores.transaction(async (tx) => {
      await queue.enqueue(tx, { kind: "step", payload: {}, queueKey: "k" });
      collected = await queue.collectEmptyQueues();
    });
    expect(collected).toBe(0);
    const deadline = Date.now() + 20_000;
    while (ran.length < 2 && Date.now() < deadline) await sleep(20);
    expect(ran).toEqual(["k", "k"]);
  });
});
