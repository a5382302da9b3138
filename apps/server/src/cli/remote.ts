import type { Context } from "./command.ts";
import { CliError, connection } from "./command.ts";

/** Temporary: a JSON request to a running Hugo (replaced by the typed client). */
export async function request<T>(
  ctx: Context,
  method: string,
  pathname: string,
  options: { query?: Record<string, string | undefined>; body?: unknown } = {},
): Promise<T> {
  const { url, token } = connection(ctx);
  const target = new URL(`${url}${pathname}`);
  for (const [k, v] of Object.entries(options.query ?? {}))
    if (v !== undefined) target.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(target, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    throw new CliError(`cannot reach Hugo at ${url}: ${(error as Error).message}`, "connection");
  }
  const body = (await res.json().catch(() => null)) as {
    error?: boolean;
    reason?: string;
    data?: unknown;
  } | null;
  if (!res.ok || body?.error) {
    const data = (body?.data ?? {}) as { message?: string; field?: string; issues?: unknown[] };
    throw Object.assign(new Error(data.message ?? `HTTP ${res.status}`), {
      code: body?.reason ?? `http_${res.status}`,
      status: res.status,
      field: data.field,
      issues: data.issues,
    });
  }
  return (body && "data" in body && "error" in body ? body.data : body) as T;
}
