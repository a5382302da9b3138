import type { ErrorData, ErrorReason } from "@hugo/protocol";

/**
 * The server's `reason` (docs/ERRORS.md), or one of the client's own: `connection_error`, `timeout`,
 * `invalid_response`. Open-ended, so a newer server's codes still type-check.
 */
export type HugoErrorCode = ErrorReason | "connection_error" | "timeout" | "invalid_response" | (string & {});

export interface HugoErrorInit {
  status: number;
  code: HugoErrorCode;
  message: string;
  field?: string;
  issues?: ErrorData["issues"];
  requestId?: string;
  /** The error envelope's `data`, whole (some reasons add fields beside `message`). */
  data?: unknown;
  cause?: unknown;
}

/**
 * Every error the client throws. `status` is the HTTP status (0 when no answer came), `code` the
 * server's stable `reason`, `field` the offending field when the server names one.
 * @example
 * try { await client.agent.trigger({ session_id, instruction }); }
 * catch (e) { if (e instanceof HugoError && e.code === "instruction_too_long") shorten(); else throw e; }
 */
export class HugoError extends Error {
  readonly status: number;
  readonly code: HugoErrorCode;
  readonly field: string | undefined;
  readonly issues: ErrorData["issues"];
  readonly requestId: string | undefined;
  readonly data: unknown;

  constructor(init: HugoErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.issues = init.issues;
    this.requestId = init.requestId;
    this.data = init.data;
  }
}

/** 400: the request is malformed (`invalid_body`, `invalid_params`, `instruction_too_long`, …). */
export class BadRequestError extends HugoError {}
/** 401: no token, or a wrong, revoked or expired one (`unauthorized`, `token_revoked`, `token_expired`). */
export class AuthenticationError extends HugoError {}
/** 403: the credential may not do this (`insufficient_scope`, `forbidden`, …). */
export class PermissionError extends HugoError {}
/** 404: no such thing, or another website's (`session_not_found`, `workflow_not_found`, …). */
export class NotFoundError extends HugoError {}
/** 409: the state forbids it (`workflow_not_deployed`, `run_not_active`, …). */
export class ConflictError extends HugoError {}
/** 422: well-formed but refused (`workflow_invalid` with `issues`, `idempotency_key_reused`, …). */
export class UnprocessableError extends HugoError {}
/** 5xx: the server failed; retried (idempotent requests) before it is thrown. */
export class ServerError extends HugoError {}

/** 429: too many requests; `retryAfter` is the server's `Retry-After`, in seconds, when it sent one. */
export class RateLimitError extends HugoError {
  readonly retryAfter: number | undefined;
  constructor(init: HugoErrorInit & { retryAfter?: number }) {
    super(init);
    this.retryAfter = init.retryAfter;
  }
}

/** No answer: the connection failed or was cut (`cause` holds the fetch error). Status 0. */
export class ConnectionError extends HugoError {
  constructor(message: string, cause?: unknown, code: HugoErrorCode = "connection_error") {
    super({ status: 0, code, message, cause });
  }
}

/** No answer within `timeoutMs`. */
export class TimeoutError extends ConnectionError {
  constructor(timeoutMs: number) {
    super(`No answer within ${timeoutMs} ms.`, undefined, "timeout");
  }
}

const BY_STATUS: Record<number, typeof HugoError> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableError,
};

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The typed error for an error answer: its class by status, its code and field from the envelope. */
export function errorFromResponse(status: number, body: unknown, headers: Headers): HugoError {
  const envelope = body as { error?: unknown; reason?: unknown; data?: Partial<ErrorData> } | undefined;
  const data = envelope?.error === true && typeof envelope.data === "object" ? envelope.data : undefined;
  const init: HugoErrorInit = {
    status,
    code:
      typeof envelope?.reason === "string"
        ? envelope.reason
        : status >= 500
          ? "internal_error"
          : "invalid_response",
    message: typeof data?.message === "string" ? data.message : `HTTP ${status}`,
    field: typeof data?.field === "string" ? data.field : undefined,
    issues: Array.isArray(data?.issues) ? data.issues : undefined,
    requestId: headers.get("x-request-id") ?? undefined,
    data,
  };
  if (status === 429) {
    const wait = parseRetryAfter(headers.get("retry-after"));
    return new RateLimitError({ ...init, retryAfter: wait === undefined ? undefined : wait / 1000 });
  }
  if (status >= 500) return new ServerError(init);
  const Class = BY_STATUS[status] ?? HugoError;
  return new Class(init);
}
