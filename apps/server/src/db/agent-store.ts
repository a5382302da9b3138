import type { TurnTrace } from "@hugo/protocol";
import type { AgentStore, StoredAgentSettings, TurnRecord } from "../core/ports.ts";
import type { AgentTurnsTable } from "./schema.ts";
import { SqlStore } from "./sql-store.ts";

const toTurn = (r: AgentTurnsTable): TurnRecord => ({
  ...r,
  source: r.source as TurnRecord["source"],
  status: r.status as TurnRecord["status"],
  fingerprint: r.fingerprint === null ? null : Number(r.fingerprint),
  trace: r.trace === null ? null : (JSON.parse(r.trace) as TurnTrace),
  created_at: Number(r.created_at),
  finished_at: r.finished_at === null ? null : Number(r.finished_at),
});

export class SqlAgentStore extends SqlStore implements AgentStore {
  async getSettings(websiteId: string): Promise<Partial<StoredAgentSettings> | undefined> {
    const row = await this.db
      .selectFrom("agent_settings")
      .select("settings")
      .where("website_id", "=", websiteId)
      .executeTakeFirst();
    return row && (JSON.parse(row.settings) as Partial<StoredAgentSettings>);
  }

  async putSettings(websiteId: string, settings: StoredAgentSettings, at: number): Promise<void> {
    const row = { website_id: websiteId, settings: JSON.stringify(settings), updated_at: at };
    await this.db
      .insertInto("agent_settings")
      .values(row)
      .onConflict((oc) => oc.column("website_id").doUpdateSet({ settings: row.settings, updated_at: at }))
      .execute();
  }

  async createTurn(turn: TurnRecord): Promise<void> {
    await this.db
      .insertInto("agent_turns")
      .values({ ...turn, trace: turn.trace && JSON.stringify(turn.trace) })
      .execute();
  }

  async finishTurn(
    websiteId: string,
    turnId: string,
    patch: Pick<TurnRecord, "status" | "fingerprint" | "trace" | "error" | "finished_at">,
  ): Promise<boolean> {
    const res = await this.db
      .updateTable("agent_turns")
      .set({ ...patch, trace: patch.trace && JSON.stringify(patch.trace) })
      .where("website_id", "=", websiteId)
      .where("id", "=", turnId)
      .where("status", "=", "queued")
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async findTurn(websiteId: string, turnId: string): Promise<TurnRecord | undefined> {
    const row = await this.db
      .selectFrom("agent_turns")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("id", "=", turnId)
      .executeTakeFirst();
    return row && toTurn(row);
  }

  async listTurns(websiteId: string, sessionId: string, limit: number): Promise<TurnRecord[]> {
    const rows = await this.db
      .selectFrom("agent_turns")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("session_id", "=", sessionId)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toTurn);
  }
}
