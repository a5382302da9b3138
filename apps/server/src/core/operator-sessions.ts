import {
  type AuthSession,
  type OperatorRole,
  type OwnerSetup,
  ROLE_SCOPES,
  type SignIn,
  type TokenScope,
} from "@hugo/protocol";
import { hmacHex, randomHex, safeEqual, sha256Hex } from "./crypto.ts";
import { AppError } from "./errors.ts";
import type { OperatorService } from "./operators.ts";
import type { OperatorSessionRecord, Stores } from "./ports.ts";
import type { WebsiteService } from "./websites.ts";

/** A signed-in operator's request: their role on the session's website, as scopes. */
export interface OperatorPrincipal {
  kind: "operator";
  websiteId: string;
  operatorId: string;
  role: OperatorRole;
  scopes: ReadonlySet<TokenScope>;
  /** The session's row id (the SHA-256 of its cookie). */
  sessionId: string;
  /** The CSRF token requests that change something must echo. */
  csrf: string;
}

/** A session lives two weeks from its last use. */
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
/** Sliding the expiry is a write: at most once a minute per session. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Operators' dashboard sessions. The cookie holds a random secret; the database keeps only its
 * SHA-256 (a leaked table signs no one in). The CSRF token is an HMAC of the secret under the
 * server secret, so it needs no storage and cannot be derived from the cookie without the server.
 * Every request re-reads the operator's membership: a removed operator or a changed role takes
 * effect at once.
 */
export class OperatorSessionService {
  readonly #stores: Stores;
  readonly #secret: string;
  readonly #operators: OperatorService;
  readonly #websites: WebsiteService;

  constructor(stores: Stores, secret: string, operators: OperatorService, websites: WebsiteService) {
    this.#stores = stores;
    this.#secret = secret;
    this.#operators = operators;
    this.#websites = websites;
  }

  async setupNeeded(): Promise<boolean> {
    return !(await this.#stores.operators.anyOperator());
  }

  /** First run: creates the website and its owner, then signs them in. Refused once any operator exists. */
  async setup(input: OwnerSetup): Promise<{ cookie: string; session: AuthSession }> {
    const operatorId = await this.#stores.transaction(async (tx) => {
      if (await tx.operators.anyOperator()) throw new AppError("setup_done");
      // Two setups at once (PostgreSQL, read committed) would both see no operator: the first to
      // claim this key wins, the other waits on it and then finds it taken.
      const claim = randomHex(16);
      if ((await tx.kv.setIfAbsent("setup:owner", claim)) !== claim) throw new AppError("setup_done");
      const website = await this.#websites.create({
        name: input.website_name,
        ...(input.website_domain ? { domain: input.website_domain } : {}),
      });
      const owner = await this.#operators.create(website.id, {
        email: input.email,
        name: input.name,
        password: input.password,
        role: "owner",
      });
      return owner.id;
    });
    return this.#open(operatorId, undefined);
  }

  async signIn(input: SignIn): Promise<{ cookie: string; session: AuthSession }> {
    const operator = await this.#operators.login(input.email, input.password);
    return this.#open(operator.id, input.website_id);
  }

  async #open(operatorId: string, websiteId: string | undefined) {
    const memberships = await this.#stores.operators.listMemberships(operatorId);
    const membership = websiteId ? memberships.find((m) => m.website_id === websiteId) : memberships[0];
    if (!membership) {
      throw websiteId
        ? new AppError("forbidden", `This operator is not a member of website ${websiteId}.`, {
            field: "website_id",
          })
        : new AppError("forbidden", "This operator belongs to no website.");
    }
    const cookie = randomHex(32);
    const now = Date.now();
    const record: OperatorSessionRecord = {
      id: sha256Hex(cookie),
      operator_id: operatorId,
      website_id: membership.website_id,
      created_at: now,
      expires_at: now + SESSION_TTL_MS,
      last_seen_at: now,
    };
    await this.#stores.operators.createSession(record);
    // Expired rows are dropped as new ones are made: the table stays the size of the live sessions.
    await this.#stores.operators.deleteExpiredSessions(now);
    const principal = await this.#principal(record, cookie);
    return { cookie, session: await this.describe(principal) };
  }

  /** The principal a session cookie stands for; `unauthorized` when unknown, expired or no longer a member. */
  async authenticate(cookie: string): Promise<OperatorPrincipal> {
    if (!/^[0-9a-f]{64}$/.test(cookie)) throw new AppError("unauthorized", "Malformed session cookie.");
    const record = await this.#stores.operators.findSession(sha256Hex(cookie));
    const now = Date.now();
    if (!record || record.expires_at <= now)
      throw new AppError("unauthorized", "Your session has ended; sign in again.");
    if (now - record.last_seen_at > TOUCH_INTERVAL_MS)
      await this.#stores.operators.touchSession(record.id, now, now + SESSION_TTL_MS);
    return this.#principal(record, cookie);
  }

  async #principal(record: OperatorSessionRecord, cookie: string): Promise<OperatorPrincipal> {
    const membership = await this.#stores.operators.findMembership(record.website_id, record.operator_id);
    if (!membership) throw new AppError("unauthorized", "You are no longer a member of this website.");
    return {
      kind: "operator",
      websiteId: record.website_id,
      operatorId: record.operator_id,
      role: membership.role,
      scopes: new Set(ROLE_SCOPES[membership.role]),
      sessionId: record.id,
      csrf: hmacHex(this.#secret, `csrf:${cookie}`),
    };
  }

  /** Throws `csrf_failed` unless `header` is the session's CSRF token (compared in constant time). */
  checkCsrf(principal: OperatorPrincipal, header: string | undefined): void {
    if (typeof header !== "string" || !safeEqual(header, principal.csrf))
      throw new AppError("csrf_failed", undefined, { field: "X-CSRF-Token" });
  }

  async describe(principal: OperatorPrincipal): Promise<AuthSession> {
    const [operator, memberships, record] = await Promise.all([
      this.#stores.operators.findById(principal.operatorId),
      this.#stores.operators.listMemberships(principal.operatorId),
      this.#stores.operators.findSession(principal.sessionId),
    ]);
    if (!operator || !record) throw new AppError("unauthorized", "Your session has ended; sign in again.");
    return {
      operator: { id: operator.id, email: operator.email, name: operator.name },
      website_id: principal.websiteId,
      role: principal.role,
      scopes: [...principal.scopes],
      csrf_token: principal.csrf,
      websites: memberships.map((m) => ({ id: m.website_id, name: m.website_name, role: m.role })),
      expires_at: record.expires_at,
    };
  }

  /** Opens another of the operator's websites in this session. */
  async switchWebsite(principal: OperatorPrincipal, websiteId: string): Promise<AuthSession> {
    const membership = await this.#stores.operators.findMembership(websiteId, principal.operatorId);
    if (!membership)
      throw new AppError("website_not_found", `No website ${websiteId}.`, { field: "website_id" });
    await this.#stores.operators.setSessionWebsite(principal.sessionId, websiteId);
    return this.describe({
      ...principal,
      websiteId,
      role: membership.role,
      scopes: new Set(ROLE_SCOPES[membership.role]),
    });
  }

  async signOut(principal: OperatorPrincipal): Promise<void> {
    await this.#stores.operators.deleteSession(principal.sessionId);
  }
}
