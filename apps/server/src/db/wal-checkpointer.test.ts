import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "./database.ts";

describe("SQLite WAL checkpoints", () => {
  it("move to a worker thread under sustained writes, and the data stays intact", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-wal-"));
    const file = path.join(dir, "hugo.sqlite");
    const database = openDatabase({ sqliteFile: file });
    const sqlite = database.sqlite!;
    try {
      // An idle database keeps SQLite's own checkpoint.
      expect(sqlite.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
      sqlite.exec("create table t (id integer primary key, v text)");
      const insert = sqlite.prepare("insert into t (v) values (?)");
      const many = sqlite.transaction((n: number) => {
        for (let i = 0; i < n; i++) insert.run("x".repeat(2000));
      });
      many(3000); // ~6 MB through the WAL
      const deadline = Date.now() + 10_000;
      while (sqlite.pragma("wal_autocheckpoint", { simple: true }) !== 10000) {
        if (Date.now() > deadline) throw new Error("the checkpoint worker did not start");
        await new Promise((r) => setTimeout(r, 50));
      }
      many(3000);
    } finally {
      await database.close();
    }
    const reopened = openDatabase({ sqliteFile: file });
    try {
      expect(reopened.sqlite!.prepare("select count(*) as n from t").get()).toEqual({ n: 6000 });
      expect(reopened.sqlite!.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      await reopened.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
