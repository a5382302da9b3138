import { AsyncLocalStorage } from "node:async_hooks";
import { type Kysely, sql } from "kysely";
import type { DB } from "./schema.ts";

/**
 * The transaction a piece of work runs in, carried by AsyncLocalStorage so that every store call
 * made while it runs — through any `Stores` object of the same database — joins it. Keyed by the
 * root Kysely instance, so two databases in one process never share one.
 */
interface Context {
  transactions: Map<Kysely<DB>, Kysely<DB>>;
  afterCommit: (() => void)[];
}

const als = new AsyncLocalStorage<Context>();

/** The executor to use now: the caller's transaction if there is one for this database, else `root`. */
export function executor(root: Kysely<DB>): Kysely<DB> {
  if (root.isTransaction) return root;
  return als.getStore()?.transactions.get(root) ?? root;
}

/** Runs `fn` in one transaction that every store call inside joins; commits when it resolves. */
export async function atomically<T>(root: Kysely<DB>, fn: () => Promise<T>): Promise<T> {
  if (executor(root).isTransaction) return fn();
  const outer = als.getStore();
  const context: Context = { transactions: new Map(outer?.transactions), afterCommit: [] };
  let result: T;
  try {
    result = await root.transaction().execute((trx) => {
      context.transactions.set(root, trx);
      return als.run(context, fn);
    });
  } finally {
    // Work scheduled inside (a timer, setImmediate, a promise left running) keeps this context; once
    // the transaction has ended it must use the root executor, never the committed transaction.
    context.transactions.delete(root);
  }
  // Outside the transaction's context: what runs now sees committed data and the root executor.
  for (const callback of context.afterCommit) als.exit(callback);
  return result;
}

/** Runs `fn` once the current `atomically` transaction commits (never if it rolls back), or now. */
export function afterCommit(root: Kysely<DB>, fn: () => void): void {
  const context = als.getStore();
  if (context?.transactions.has(root)) context.afterCommit.push(fn);
  else fn();
}

let savepoints = 0;

/**
 * Marks a point in the current transaction to roll back to: its writes since then, and the
 * after-commit callbacks they registered, are undone; the transaction goes on.
 */
export async function savepoint(root: Kysely<DB>): Promise<{ rollback(): Promise<void> }> {
  const context = als.getStore();
  const trx = context?.transactions.get(root);
  if (!context || !trx) throw new Error("savepoint() needs a transaction (Stores.atomically)");
  const name = `hugo_sp_${++savepoints}`;
  await sql.raw(`savepoint ${name}`).execute(trx);
  const mark = context.afterCommit.length;
  return {
    async rollback() {
      await sql.raw(`rollback to savepoint ${name}`).execute(trx);
      context.afterCommit.length = mark;
    },
  };
}
