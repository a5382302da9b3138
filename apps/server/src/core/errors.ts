import { ErrorCatalog, type ErrorReason } from "@hugo/protocol";

/** A failure with a stable reason code; mapped to HTTP in one place (http/errors.ts). */
export class AppError extends Error {
  readonly reason: ErrorReason;
  readonly status: number;
  readonly field: string | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    reason: ErrorReason,
    message?: string,
    options: { field?: string; extra?: Record<string, unknown> } = {},
  ) {
    super(message ?? ErrorCatalog[reason].message);
    this.name = "AppError";
    this.reason = reason;
    this.status = ErrorCatalog[reason].status;
    this.field = options.field;
    this.extra = options.extra;
  }
}
