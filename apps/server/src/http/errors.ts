import { ErrorCatalog, type ErrorData, type ErrorReason } from "@hugo/protocol";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../core/errors.ts";

type ValidationIssue = {
  instancePath?: string;
  message?: string;
  params?: { issue?: { path?: PropertyKey[]; message?: string } };
};

const contextReason: Record<string, ErrorReason> = {
  body: "invalid_body",
  querystring: "invalid_query",
  params: "invalid_params",
  headers: "invalid_header",
};

function issuePath(issue: ValidationIssue): string {
  const path = issue.params?.issue?.path;
  if (path && path.length > 0) return path.map(String).join(".");
  return (issue.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
}

/** Maps any thrown error to the envelope `{ error: true, reason, data }`. The one place errors become HTTP. */
export function toErrorResponse(error: unknown): { status: number; reason: ErrorReason; data: ErrorData } {
  if (error instanceof AppError) {
    const data: ErrorData = {
      ...error.extra,
      message: error.message,
      ...(error.field ? { field: error.field } : {}),
    };
    return { status: error.status, reason: error.reason, data };
  }
  const e = error as Omit<FastifyError, "validation"> & {
    validation?: ValidationIssue[];
    validationContext?: string;
  };
  if (e?.validation) {
    const reason = contextReason[e.validationContext ?? "body"] ?? "invalid_body";
    const issues = e.validation.map((i) => ({
      path: issuePath(i),
      message: i.params?.issue?.message ?? i.message ?? "invalid",
    }));
    const first = issues[0];
    const where = e.validationContext === "querystring" ? "query parameter" : (e.validationContext ?? "body");
    const message = first
      ? first.path
        ? `Invalid ${where} field "${first.path}": ${first.message}`
        : `Invalid ${where}: ${first.message}`
      : ErrorCatalog[reason].message;
    return { status: 400, reason, data: { message, ...(first?.path ? { field: first.path } : {}), issues } };
  }
  const simple = (reason: ErrorReason, message?: string) => ({
    status: ErrorCatalog[reason].status,
    reason,
    data: { message: message ?? ErrorCatalog[reason].message },
  });
  switch (e?.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return simple("payload_too_large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_TYPE":
      return simple(
        "unsupported_media_type",
        "Send the body as application/json (Content-Type: application/json).",
      );
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return simple(
        "invalid_json",
        "The body is empty but Content-Type is application/json; send {} or omit the header.",
      );
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return simple("invalid_header", "Content-Length does not match the body.");
  }
  if (e instanceof SyntaxError || (e?.statusCode === 400 && /JSON/i.test(e.message))) {
    return simple("invalid_json", `The request body is not valid JSON: ${e.message}`);
  }
  if (e?.statusCode === 413) return simple("payload_too_large");
  if (e?.statusCode === 415) return simple("unsupported_media_type");
  if (e?.statusCode === 503) return simple("unavailable");
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, reason: "invalid_body", data: { message: e.message } };
  }
  return simple("internal_error");
}

export function sendError(reply: FastifyReply, error: unknown) {
  const { status, reason, data } = toErrorResponse(error);
  return reply.code(status).type("application/json").send({ error: true, reason, data });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request: FastifyRequest, reply) => {
    const mapped = toErrorResponse(error);
    if (mapped.status >= 500) request.log.error({ err: error }, "unhandled error");
    return reply
      .code(mapped.status)
      .type("application/json")
      .send({ error: true, reason: mapped.reason, data: mapped.data });
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new AppError("route_not_found", `No route ${request.method} ${request.url.split("?")[0]}.`),
    ),
  );
}
