import type { Operator, OperatorCreate, OperatorRole } from "@hugo/protocol";
import { hashPassword, verifyPassword } from "./crypto.ts";
import { AppError } from "./errors.ts";
import { newUuid } from "./ids.ts";
import type { OperatorRecord, Stores } from "./ports.ts";

const toOperator = (o: OperatorRecord, role: OperatorRole): Operator => ({
  id: o.id,
  email: o.email,
  name: o.name,
  role,
  created_at: o.created_at,
  last_login_at: o.last_login_at,
});

// A fixed hash to verify against when the email is unknown, so both paths take the same time.
let dummyHash: Promise<string> | undefined;

export class OperatorService {
  readonly #stores: Stores;
  constructor(stores: Stores) {
    this.#stores = stores;
  }

  async create(websiteId: string, input: OperatorCreate): Promise<Operator> {
    const now = Date.now();
    const passwordHash = await hashPassword(input.password);
    return this.#stores.transaction(async (tx) => {
      let operator = await tx.operators.findByEmail(input.email);
      if (operator && (await tx.operators.findMembership(websiteId, operator.id))) {
        throw new AppError("operator_exists", `An operator with email ${input.email} already exists.`, {
          field: "email",
        });
      }
      if (!operator) {
        operator = {
          id: newUuid(),
          email: input.email,
          name: input.name,
          password_hash: passwordHash,
          created_at: now,
          last_login_at: null,
        };
        await tx.operators.create(operator);
      }
      await tx.operators.addMembership(
        { website_id: websiteId, operator_id: operator.id, role: input.role },
        now,
      );
      return toOperator(operator, input.role);
    });
  }

  async list(websiteId: string): Promise<Operator[]> {
    return (await this.#stores.operators.listMembers(websiteId)).map((o) => toOperator(o, o.role));
  }

  async get(websiteId: string, operatorId: string): Promise<Operator> {
    const membership = await this.#stores.operators.findMembership(websiteId, operatorId);
    const operator = membership && (await this.#stores.operators.findById(operatorId));
    if (!membership || !operator)
      throw new AppError("operator_not_found", `No operator ${operatorId} in this website.`);
    return toOperator(operator, membership.role);
  }

  async update(
    websiteId: string,
    operatorId: string,
    patch: { name?: string | undefined; role?: OperatorRole | undefined },
  ): Promise<Operator> {
    return this.#stores.transaction(async (tx) => {
      const membership = await tx.operators.findMembership(websiteId, operatorId);
      if (!membership) throw new AppError("operator_not_found", `No operator ${operatorId} in this website.`);
      if (patch.role && patch.role !== membership.role) {
        if (membership.role === "owner" && (await tx.operators.countOwners(websiteId)) <= 1) {
          throw new AppError("last_owner", undefined, { field: "role" });
        }
        await tx.operators.setRole(websiteId, operatorId, patch.role);
      }
      if (patch.name) await tx.operators.update(operatorId, { name: patch.name });
      const operator = (await tx.operators.findById(operatorId))!;
      return toOperator(operator, patch.role ?? membership.role);
    });
  }

  async remove(websiteId: string, operatorId: string): Promise<void> {
    await this.#stores.transaction(async (tx) => {
      const membership = await tx.operators.findMembership(websiteId, operatorId);
      if (!membership) throw new AppError("operator_not_found", `No operator ${operatorId} in this website.`);
      if (membership.role === "owner" && (await tx.operators.countOwners(websiteId)) <= 1) {
        throw new AppError("last_owner");
      }
      await tx.operators.removeMembership(websiteId, operatorId);
    });
  }

  /** Checks an email and password; the same work is done whether or not the email exists. */
  async login(email: string, password: string): Promise<OperatorRecord> {
    const operator = await this.#stores.operators.findByEmail(email.trim().toLowerCase());
    dummyHash ??= hashPassword("not-a-real-password");
    const ok = await verifyPassword(password, operator?.password_hash ?? (await dummyHash));
    if (!operator || !ok) throw new AppError("invalid_credentials");
    const now = Date.now();
    await this.#stores.operators.update(operator.id, { last_login_at: now });
    return { ...operator, last_login_at: now };
  }
}
