import {
  type CreatedToken,
  TOKEN_SCOPES,
  type Token,
  type TokenCreate,
  type TokenScope,
} from "@hugo/protocol";
import { randomHex, safeEqual, seal, sha256Hex, unseal } from "./crypto.ts";
import { AppError } from "./errors.ts";
import { newUuid } from "./ids.ts";
import type { OperatorPrincipal } from "./operator-sessions.ts";
import type { Stores, TokenRecord } from "./ports.ts";

/** Who a request acts as: an API token, or an operator signed in to the dashboard. */
export type Principal = TokenPrincipal | OperatorPrincipal;

/** What a request authenticated as: an API token, scoped to one website. */
export interface TokenPrincipal {
  kind: "token";
  websiteId: string;
  tokenId: string;
  scopes: ReadonlySet<TokenScope>;
}

const BEARER_RE = /^hugo_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_([0-9a-f]{64})$/;

/** The Bearer form of a token: `hugo_<identifier>_<key>`; Crisp clients send `identifier:key` as Basic. */
export const formatBearer = (identifier: string, key: string) => `hugo_${identifier}_${key}`;

export function parseBearer(token: string): { identifier: string; key: string } | undefined {
  const m = BEARER_RE.exec(token);
  return m ? { identifier: m[1]!, key: m[2]! } : undefined;
}

function publicToken(t: TokenRecord): Token {
  const { secret_hash: _, secret_sealed: __, ...rest } = t;
  return rest;
}

const SEAL_PURPOSE = "api-token";

// `last_used_at` is written at most this often per token, so authentication stays a read on the hot path.
const TOUCH_INTERVAL_MS = 60_000;
// Verified tokens are remembered this long; revocation on this node clears the entry at once.
const CACHE_TTL_MS = 5_000;

export class TokenService {
  readonly #stores: Stores;
  readonly #secret: string | undefined;
  readonly #cache = new Map<string, { record: TokenRecord; keyHash: string; until: number }>();

  /**
   * With the server secret, each new token's key is also kept sealed (AES-256-GCM), so `reveal` can
   * show it again (snippets with the token filled in); without it, new tokens are hash-only.
   */
  constructor(stores: Stores, serverSecret?: string) {
    this.#stores = stores;
    this.#secret = serverSecret;
  }

  async create(websiteId: string, input: TokenCreate): Promise<CreatedToken> {
    const identifier = newUuid();
    const key = randomHex(32);
    const now = Date.now();
    const record: TokenRecord = {
      id: identifier,
      website_id: websiteId,
      name: input.name,
      scopes: [...new Set(input.scopes ?? TOKEN_SCOPES)].sort() as TokenScope[],
      secret_hash: sha256Hex(key),
      secret_sealed: this.#secret === undefined ? null : seal(this.#secret, SEAL_PURPOSE, key),
      hint: key.slice(0, 6),
      created_at: now,
      expires_at: input.expires_in ? now + input.expires_in * 1000 : null,
      last_used_at: null,
      revoked_at: null,
    };
    await this.#stores.tokens.create(record);
    return { ...publicToken(record), token: formatBearer(identifier, key), identifier, key };
  }

  async list(websiteId: string): Promise<Token[]> {
    return (await this.#stores.tokens.list(websiteId)).map(publicToken);
  }

  async revoke(websiteId: string, id: string): Promise<void> {
    const ok = await this.#stores.tokens.revoke(websiteId, id, Date.now());
    this.#cache.delete(id);
    if (!ok) {
      const existing = await this.#stores.tokens.find(id);
      if (!existing || existing.website_id !== websiteId)
        throw new AppError("token_not_found", `No API token ${id}.`);
      // Already revoked: revoking is idempotent.
    }
  }

  /**
   * A token's Bearer secret, shown again (for snippets). Throws `token_not_found` (also for another
   * website's token) or `token_not_revealable`: revoked, expired, or without a sealed copy.
   */
  async reveal(websiteId: string, id: string): Promise<string> {
    const record = await this.#stores.tokens.find(id);
    if (!record || record.website_id !== websiteId)
      throw new AppError("token_not_found", `No API token ${id}.`, { field: "token_id" });
    const refuse = (why: string) =>
      new AppError("token_not_revealable", `API token ${id} cannot be shown: ${why}.`, { field: "token_id" });
    if (record.revoked_at !== null) throw refuse("it is revoked");
    if (record.expires_at !== null && record.expires_at <= Date.now()) throw refuse("it has expired");
    if (record.secret_sealed === null || this.#secret === undefined)
      throw refuse(
        "only its hash is stored (it was created before Hugo kept sealed secrets); create a new token",
      );
    let key: string;
    try {
      key = unseal(this.#secret, SEAL_PURPOSE, record.secret_sealed);
    } catch {
      throw refuse("it was sealed under another server secret (HUGO_SECRET changed); create a new token");
    }
    return formatBearer(record.id, key);
  }

  /** Verifies an identifier/key pair in constant time; throws `unauthorized`, `token_revoked` or `token_expired`. */
  async authenticate(identifier: string, key: string): Promise<TokenPrincipal> {
    const now = Date.now();
    const keyHash = sha256Hex(key);
    let entry = this.#cache.get(identifier);
    if (!entry || entry.until < now) {
      const record = /^[0-9a-f-]{36}$/.test(identifier)
        ? await this.#stores.tokens.find(identifier)
        : undefined;
      if (!record) {
        safeEqual(keyHash, keyHash);
        throw new AppError("unauthorized", "Unknown API token.");
      }
      entry = { record, keyHash: record.secret_hash, until: now + CACHE_TTL_MS };
      this.#cache.set(identifier, entry);
      if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    const { record } = entry;
    if (!safeEqual(keyHash, entry.keyHash)) throw new AppError("unauthorized", "Wrong API token key.");
    if (record.revoked_at !== null) throw new AppError("token_revoked");
    if (record.expires_at !== null && record.expires_at <= now) throw new AppError("token_expired");
    if (record.last_used_at === null || now - record.last_used_at > TOUCH_INTERVAL_MS) {
      record.last_used_at = now;
      await this.#stores.tokens.touch(record.id, now);
    }
    return {
      kind: "token",
      websiteId: record.website_id,
      tokenId: record.id,
      scopes: new Set(record.scopes),
    };
  }
}

/** Throws `insufficient_scope` unless the principal holds `scope`. */
export function requireScope(principal: Principal, scope: TokenScope): void {
  if (!principal.scopes.has(scope)) {
    const who = principal.kind === "operator" ? "Your role does not grant" : "This API token lacks";
    throw new AppError("insufficient_scope", `${who} the "${scope}" scope.`, {
      extra: { scope },
    });
  }
}
