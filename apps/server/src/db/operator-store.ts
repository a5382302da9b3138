import type { OperatorRole } from "@hugo/protocol";
import type { Membership, OperatorRecord, OperatorSessionRecord, OperatorStore } from "../core/ports.ts";
import { SqlStore } from "./sql-store.ts";

const columns = ["id", "email", "name", "password_hash", "created_at", "last_login_at"] as const;

export class SqlOperatorStore extends SqlStore implements OperatorStore {
  async create(operator: OperatorRecord): Promise<void> {
    await this.db.insertInto("operators").values(operator).execute();
  }
  findByEmail(email: string): Promise<OperatorRecord | undefined> {
    return this.db.selectFrom("operators").select(columns).where("email", "=", email).executeTakeFirst();
  }
  findById(id: string): Promise<OperatorRecord | undefined> {
    return this.db.selectFrom("operators").select(columns).where("id", "=", id).executeTakeFirst();
  }
  async addMembership(m: Membership, at: number): Promise<void> {
    await this.db
      .insertInto("website_operators")
      .values({ ...m, created_at: at })
      .execute();
  }
  async findMembership(websiteId: string, operatorId: string): Promise<Membership | undefined> {
    const row = await this.db
      .selectFrom("website_operators")
      .select(["website_id", "operator_id", "role"])
      .where("website_id", "=", websiteId)
      .where("operator_id", "=", operatorId)
      .executeTakeFirst();
    return row && { ...row, role: row.role as OperatorRole };
  }
  async listMembers(websiteId: string): Promise<(OperatorRecord & { role: OperatorRole })[]> {
    const rows = await this.db
      .selectFrom("website_operators as m")
      .innerJoin("operators as o", "o.id", "m.operator_id")
      .select(["o.id", "o.email", "o.name", "o.password_hash", "o.created_at", "o.last_login_at", "m.role"])
      .where("m.website_id", "=", websiteId)
      .orderBy("m.created_at")
      .orderBy("o.id")
      .execute();
    return rows.map((r) => ({ ...r, role: r.role as OperatorRole }));
  }
  async setRole(websiteId: string, operatorId: string, role: OperatorRole): Promise<boolean> {
    const res = await this.db
      .updateTable("website_operators")
      .set({ role })
      .where("website_id", "=", websiteId)
      .where("operator_id", "=", operatorId)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
  async removeMembership(websiteId: string, operatorId: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom("website_operators")
      .where("website_id", "=", websiteId)
      .where("operator_id", "=", operatorId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
  async countOwners(websiteId: string): Promise<number> {
    const row = await this.db
      .selectFrom("website_operators")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("website_id", "=", websiteId)
      .where("role", "=", "owner")
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  async update(id: string, patch: { name?: string; last_login_at?: number }): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db.updateTable("operators").set(patch).where("id", "=", id).execute();
  }
  async listMemberships(operatorId: string): Promise<(Membership & { website_name: string })[]> {
    const rows = await this.db
      .selectFrom("website_operators as m")
      .innerJoin("websites as w", "w.id", "m.website_id")
      .select(["m.website_id", "m.operator_id", "m.role", "w.name as website_name"])
      .where("m.operator_id", "=", operatorId)
      .orderBy("m.created_at")
      .orderBy("m.website_id")
      .execute();
    return rows.map((r) => ({ ...r, role: r.role as OperatorRole }));
  }
  async anyOperator(): Promise<boolean> {
    return (await this.db.selectFrom("operators").select("id").limit(1).executeTakeFirst()) !== undefined;
  }
  async createSession(session: OperatorSessionRecord): Promise<void> {
    await this.db.insertInto("operator_sessions").values(session).execute();
  }
  findSession(id: string): Promise<OperatorSessionRecord | undefined> {
    return this.db.selectFrom("operator_sessions").selectAll().where("id", "=", id).executeTakeFirst();
  }
  async touchSession(id: string, lastSeenAt: number, expiresAt: number): Promise<void> {
    await this.db
      .updateTable("operator_sessions")
      .set({ last_seen_at: lastSeenAt, expires_at: expiresAt })
      .where("id", "=", id)
      .execute();
  }
  async setSessionWebsite(id: string, websiteId: string): Promise<void> {
    await this.db
      .updateTable("operator_sessions")
      .set({ website_id: websiteId })
      .where("id", "=", id)
      .execute();
  }
  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom("operator_sessions").where("id", "=", id).execute();
  }
  async deleteExpiredSessions(now: number): Promise<number> {
    const res = await this.db
      .deleteFrom("operator_sessions")
      .where("expires_at", "<=", now)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
