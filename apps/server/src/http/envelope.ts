import { z } from "zod";

/** Success envelope: Crisp answers `reason` "resolved" for reads, "added" for creations, "updated"/"deleted" for changes. */
export const ok = <T>(data: T, reason = "resolved") => ({ error: false as const, reason, data });

/** Schema of a success envelope around `data`, for the OpenAPI document. */
export const Envelope = <T extends z.ZodType>(data: T) =>
  z.object({ error: z.literal(false), reason: z.string(), data });

export const ErrorEnvelope = z.object({
  error: z.literal(true),
  reason: z.string().describe("Stable machine code; see docs/ERRORS.md"),
  data: z.object({
    message: z.string(),
    field: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

/** Error responses every authenticated route can give, for the OpenAPI document. */
export const errorResponses = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  409: ErrorEnvelope,
  422: ErrorEnvelope,
} as const;
