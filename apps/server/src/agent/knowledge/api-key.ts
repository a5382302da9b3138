import { seal } from "../../core/crypto.ts";
import { AppError } from "../../core/errors.ts";
import { checkUrlSyntax, OutboundError, type OutboundPolicy } from "../../outbound/guarded-request.ts";

/**
 * An API endpoint's base URL and key as they will be stored (an LLM provider's, an embedding
 * provider's): the URL checked against the SSRF guard's syntax and address rules (a host name is
 * checked again at every connection), trailing slashes dropped; the key sealed (AES-GCM under the
 * server secret, for `purpose`). A key is bound to the API it was given for: without a new key, the
 * stored one is kept only while `sameApi` holds and the base URL is unchanged, so whoever can edit
 * settings cannot send the stored key to a server of their choosing. `null` clears the key.
 * Throws AppError `url_not_allowed` naming `field` (e.g. `provider.base_url`).
 */
export function bindApiKey(
  input: { baseUrl: string; apiKey: string | null | undefined; sameApi?: boolean },
  previous: { base_url: string; api_key_sealed: string | null } | null,
  deps: { secret: string; purpose: string; policy: OutboundPolicy; field: string },
): { base_url: string; api_key_sealed: string | null } {
  const baseUrl = input.baseUrl.replace(/\/+$/, "");
  try {
    checkUrlSyntax(baseUrl, deps.policy);
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    throw new AppError("url_not_allowed", `${deps.field}: ${error.message}`, { field: deps.field });
  }
  const sameApi = previous !== null && (input.sameApi ?? true) && previous.base_url === baseUrl;
  const sealed =
    input.apiKey === null
      ? null
      : input.apiKey !== undefined
        ? seal(deps.secret, deps.purpose, input.apiKey)
        : sameApi
          ? previous.api_key_sealed
          : null;
  return { base_url: baseUrl, api_key_sealed: sealed };
}
