import { TOKEN_SCOPES, type Token, TokenCreate } from "@hugo/protocol";
import { withAdmin } from "./admin.ts";
import { CliError, type Command, optionList, UsageError } from "./command.ts";

/**
 * `hugo token create|list|revoke`: API tokens, straight in the database (the first token cannot
 * come from the API, which needs one). Same configuration as `hugo serve`.
 */

const WEBSITE: [string, string] = [
  "--website <id>",
  "the website (default: the only one; required when there are several)",
];

const ago = (ms: number | null) =>
  ms === null ? "never" : new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

function state(t: Token, now: number): string {
  if (t.revoked_at !== null) return "revoked";
  if (t.expires_at !== null && t.expires_at <= now) return "expired";
  return "active";
}

export const tokenCreate: Command = {
  name: "token create",
  summary: "Create an API token; its secret is printed once.",
  synopsis: "--name <name> [--scope <scope>]... [--expires-in <seconds>] [options]",
  help: optionList([
    ["--name <name>", "what the token is for (required)"],
    ["--scope <scope>", `a scope to grant; repeat for several (default: all): ${TOKEN_SCOPES.join(", ")}`],
    ["--expires-in <seconds>", "lifetime, at least 60 (default: never expires)"],
    WEBSITE,
  ]),
  options: {
    name: { type: "string" },
    scope: { type: "string", multiple: true },
    "expires-in": { type: "string" },
    website: { type: "string" },
  },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const expires = ctx.string("expires-in");
    const input = TokenCreate.safeParse({
      name: ctx.string("name"),
      ...(ctx.strings("scope").length ? { scopes: ctx.strings("scope") } : {}),
      ...(expires !== undefined ? { expires_in: Number(expires) } : {}),
    });
    if (!input.success) {
      const issue = input.error.issues[0]!;
      const key = String(issue.path[0] ?? "");
      const option = { name: "--name", scopes: "--scope", expires_in: "--expires-in" }[key] ?? key;
      throw new UsageError(
        `${option}: ${key === "scopes" ? `one of ${TOKEN_SCOPES.join(", ")}` : issue.message}`,
      );
    }
    const created = await withAdmin(ctx.env, async (admin) =>
      admin.tokens.create(await admin.website(ctx.string("website")), input.data),
    );
    ctx.print(created, (t) => [
      `Created token ${t.id} (${t.name}) for website ${t.website_id}.`,
      `Scopes: ${t.scopes.join(", ")}`,
      `Expires: ${t.expires_at === null ? "never" : ago(t.expires_at)}`,
      "",
      "Its secret is shown once — copy it now:",
      `  ${t.token}`,
    ]);
    return 0;
  },
};

export const tokenList: Command = {
  name: "token list",
  summary: "List a website's API tokens (never their secrets).",
  synopsis: "[options]",
  help: optionList([WEBSITE]),
  options: { website: { type: "string" } },
  async run(ctx) {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument ${ctx.positionals[0]}`);
    const tokens = await withAdmin(ctx.env, async (admin) =>
      admin.tokens.list(await admin.website(ctx.string("website"))),
    );
    const now = Date.now();
    ctx.print(tokens, (list) =>
      list.length === 0
        ? "No API tokens."
        : [
            `${"ID".padEnd(36)}  ${"STATE".padEnd(7)}  ${"HINT".padEnd(6)}  ${"LAST USED".padEnd(20)}  NAME`,
            ...list.map(
              (t) =>
                `${t.id}  ${state(t, now).padEnd(7)}  ${t.hint.padEnd(6)}  ${ago(t.last_used_at).padEnd(20)}  ${t.name}`,
            ),
          ],
    );
    return 0;
  },
};

export const tokenRevoke: Command = {
  name: "token revoke",
  summary: "Revoke an API token (a running Hugo refuses it within 5 seconds; idempotent).",
  synopsis: "<token_id> [options]",
  help: optionList([WEBSITE]),
  options: { website: { type: "string" } },
  async run(ctx) {
    const [id, ...extra] = ctx.positionals;
    if (!id) throw new UsageError("name the token to revoke (its id, from `hugo token list`)");
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    if (!/^[0-9a-f-]{36}$/.test(id))
      throw new CliError(`${id} is not a token id`, "invalid_params", "token_id");
    await withAdmin(ctx.env, async (admin) =>
      admin.tokens.revoke(await admin.website(ctx.string("website")), id),
    );
    ctx.print({ revoked: id }, () => `Revoked token ${id}.`);
    return 0;
  },
};
