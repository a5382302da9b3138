import { ConnectionError, HugoError, RateLimitError } from "@hugo/client";

/** A sentence for a person from whatever a call threw: the server's message, made friendlier where we can. */
export function errorMessage(error: unknown): string {
  if (error instanceof RateLimitError) {
    const wait = error.retryAfter;
    return wait === undefined
      ? "Too many attempts. Wait a minute, then try again."
      : `Too many attempts. Try again in ${wait < 90 ? `${Math.ceil(wait)} seconds` : `${Math.ceil(wait / 60)} minutes`}.`;
  }
  if (error instanceof ConnectionError)
    return error.code === "timeout"
      ? "Hugo took too long to answer. Try again."
      : "Hugo can't be reached. Check your connection, then try again.";
  if (error instanceof HugoError) {
    if (error.code === "invalid_credentials") return "Wrong email or password.";
    if (error.code === "setup_done") return "This Hugo already has an owner. Sign in instead.";
    return error.message;
  }
  return "Something went wrong. Try again.";
}

/** The server's validation problems by field name (`issues`, else the one `field`), as sentences. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof HugoError)) return {};
  const out: Record<string, string> = {};
  for (const issue of error.issues ?? []) {
    if (issue.path && !out[issue.path]) out[issue.path] = sentence(issue.message);
  }
  if (error.field && !out[error.field] && error.code !== "invalid_credentials")
    out[error.field] = sentence(error.message);
  return out;
}

const sentence = (s: string) => {
  const t = s.trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? "" : "."}`;
};
