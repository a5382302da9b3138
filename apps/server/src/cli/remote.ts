import { HugoClient } from "@hugo/client";
import { type Context, connection } from "./command.ts";

/**
 * The typed client on the running Hugo that `--url`/`--token` (or $HUGO_URL/$HUGO_TOKEN) name:
 * commands get its typed errors (code, field, issues), its retries on 429/5xx and a lost
 * connection, and an Idempotency-Key on every POST, so a retried command never acts twice.
 */
export function remote(ctx: Context): HugoClient {
  const { url, token } = connection(ctx);
  return new HugoClient({ baseUrl: url, token, userAgent: "hugo-cli" });
}
