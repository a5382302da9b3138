import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIALECTS, type TestDatabase } from "../../test/databases.ts";
import type { Stores } from "../core/ports.ts";
import { createStores } from "./stores.ts";

describe.each(DIALECTS)("transactions carried across stores on $dialect", ({ fresh }) => {
  let tdb: TestDatabase;
  let stores: Stores;
  beforeAll(async () => {
    tdb = await fresh();
    stores = createStores(tdb.database.db, tdb.database.sqlite);
  });
  afterAll(() => tdb?.drop());

  const website = () => ({ id: randomUUID(), name: "t", domain: "", created_at: Date.now() });

  it("joins every store call made inside atomically(), and rolls all of them back together", async () => {
    const a = website();
    const seen: string[] = [];
    await expect(
      stores.atomically(async () => {
        await stores.websites.create(a);
        // A separate Stores object of the same database joins the same transaction.
        const other = createStores(tdb.database.db, tdb.database.sqlite);
        expect(await other.websites.find(a.id)).toMatchObject({ id: a.id });
        stores.afterCommit(() => seen.push("after"));
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await stores.websites.find(a.id)).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it("runs afterCommit callbacks once committed, outside the transaction", async () => {
    const a = website();
    const seen: unknown[] = [];
    await stores.atomically(async () => {
      await stores.websites.create(a);
      stores.afterCommit(() => {
        seen.push("after");
        // The callback's reads use the database, not the finished transaction.
        void stores.websites.find(a.id).then((w) => seen.push(w?.id));
      });
      expect(seen).toEqual([]);
    });
    expect(seen[0]).toBe("after");
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(["after", a.id]);
    let ran = false;
    stores.afterCommit(() => {
      ran = true;
    });
    expect(ran).toBe(true);
  });

  it("never hands a finished transaction to work scheduled inside it", async () => {
    const a = website();
    let later: Promise<unknown> | undefined;
    await stores.atomically(async () => {
      await stores.websites.create(a);
      // setImmediate keeps the async context; by the time it runs the transaction has committed.
      later = new Promise((resolve, reject) =>
        setImmediate(() => stores.atomically(() => stores.websites.find(a.id)).then(resolve, reject)),
      );
    });
    await expect(later).resolves.toMatchObject({ id: a.id });
  });
});
