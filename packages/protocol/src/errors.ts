/**
 * The one catalog of error reasons Hugo returns. Every `/api/` and `/v1/` error response is
 * `{ error: true, reason, data: { message, ... } }` with `reason` one of these keys.
 * docs/ERRORS.md is generated from this table and a test keeps the two in sync.
 */
export const ErrorCatalog = {
  invalid_json: { status: 400, message: "The request body is not valid JSON." },
  invalid_body: { status: 400, message: "The request body does not match the expected shape." },
  invalid_query: { status: 400, message: "A query-string parameter is invalid." },
  invalid_params: { status: 400, message: "A path parameter is malformed." },
  invalid_header: { status: 400, message: "A request header is malformed." },
  invalid_frame: {
    status: 400,
    message: "A WebSocket frame is not valid JSON or does not match any client frame.",
  },
  too_many_subscriptions: {
    status: 400,
    message: "This WebSocket already holds the maximum number of subscriptions (50).",
  },
  url_not_allowed: {
    status: 400,
    message: "This URL points to a private, loopback or reserved address, or is not http(s).",
  },
  instruction_too_long: { status: 400, message: "The instruction exceeds 2000 characters." },
  unauthorized: { status: 401, message: "Authentication is missing or invalid." },
  token_revoked: { status: 401, message: "This API token has been revoked." },
  token_expired: { status: 401, message: "This API token has expired." },
  invalid_credentials: { status: 401, message: "The email or password is wrong." },
  forbidden: { status: 403, message: "This credential may not perform this action." },
  csrf_failed: {
    status: 403,
    message: "A signed-in request that changes something must carry the session's X-CSRF-Token header.",
  },
  workflow_not_browser_startable: {
    status: 403,
    message: "This workflow may not be started from the browser; turn on its browser switch.",
  },
  insufficient_scope: { status: 403, message: "The API token lacks a scope this action needs." },
  origin_not_allowed: {
    status: 403,
    message:
      "This website's chat widget does not run on this page's origin; add it to the website's widget.allowed_origins.",
  },
  route_not_found: { status: 404, message: "No such route." },
  website_not_found: { status: 404, message: "No such website." },
  session_not_found: { status: 404, message: "No such conversation." },
  message_not_found: { status: 404, message: "No such message." },
  token_not_found: { status: 404, message: "No such API token." },
  operator_not_found: { status: 404, message: "No such operator." },
  inbox_not_found: { status: 404, message: "No such inbox." },
  webhook_not_found: { status: 404, message: "No such web hook." },
  workflow_not_found: { status: 404, message: "No such workflow." },
  version_not_found: { status: 404, message: "No such workflow version." },
  run_not_found: { status: 404, message: "No such workflow run." },
  source_not_found: { status: 404, message: "No such knowledge source." },
  turn_not_found: { status: 404, message: "No such agent turn." },
  file_not_found: { status: 404, message: "No such file." },
  method_not_allowed: { status: 405, message: "This method is not allowed on this route." },
  fingerprint_conflict: { status: 409, message: "A message with this fingerprint already exists." },
  operator_exists: { status: 409, message: "An operator with this email already exists." },
  setup_done: { status: 409, message: "This Hugo already has an owner; sign in instead." },
  last_owner: { status: 409, message: "A website must keep at least one owner." },
  workflow_not_deployed: {
    status: 409,
    message: "The workflow is saved but not deployed; only deployed workflows run in production.",
  },
  workflow_not_startable: {
    status: 409,
    message: 'The workflow does not start with "Triggered from code", so it cannot be started by a trigger.',
  },
  run_not_active: { status: 409, message: "The run has already ended." },
  token_not_revealable: {
    status: 409,
    message:
      "This API token's secret cannot be shown: it is revoked or expired, or was created before Hugo kept a sealed copy of new tokens' secrets; create a new token.",
  },
  provider_not_configured: {
    status: 409,
    message: "The agent has no LLM provider; set one with PATCH /api/agent/settings.",
  },
  idempotency_in_progress: {
    status: 409,
    message: "A request with this Idempotency-Key is still being processed; retry later.",
  },
  payload_too_large: { status: 413, message: "The request body is larger than the configured limit." },
  unsupported_media_type: { status: 415, message: "Send the body as application/json." },
  idempotency_key_reused: {
    status: 422,
    message: "This Idempotency-Key was already used with a different request.",
  },
  workflow_invalid: {
    status: 422,
    message: "The workflow has problems; `data.issues` names each block and field.",
  },
  source_unreadable: {
    status: 422,
    message:
      "The document or page could not be read (an unsupported format, a corrupt file, or no text in it).",
  },
  source_unreachable: {
    status: 422,
    message: "The web page could not be fetched: it did not answer, answered with an error, or is not HTML.",
  },
  rate_limited: { status: 429, message: "Too many requests; retry later." },
  internal_error: { status: 500, message: "An internal error occurred." },
  unavailable: { status: 503, message: "The server is shutting down or not ready." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorReason = keyof typeof ErrorCatalog;

export const ERROR_REASONS = Object.keys(ErrorCatalog) as ErrorReason[];

/** The envelope of every response: `{ error, reason, data }` (Crisp REST v1). */
export interface Envelope<T> {
  error: boolean;
  reason: string;
  data: T;
}

/** `data` of an error envelope. `field` names the offending field when there is one. */
export interface ErrorData {
  message: string;
  field?: string;
  issues?: { path: string; message: string }[];
}
