import { ENDPOINTS, type Endpoint, TOKEN_SCOPES, type TokenScope } from "@hugo/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import type { OpenApiDoc } from "./app.ts";

type Operation = {
  parameters?: { in: string; name: string; required?: boolean; description?: string; schema: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

/** The JSON Schema of a zod schema, as fastify-type-provider-zod writes it into the document (app.ts). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
    cycles: "ref",
    reused: "inline",
  }) as Record<string, unknown>;
  return asSwaggerWritesIt(rest) as Record<string, unknown>;
}

/**
 * What @fastify/swagger does to a JSON Schema on its way into an OpenAPI 3 document
 * (convertJsonSchemaToOpenapi3): `const` becomes a one-value `enum`, `contentEncoding` a `format`,
 * `patternProperties` `additionalProperties`.
 */
function asSwaggerWritesIt(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asSwaggerWritesIt);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === "const") out.enum = [child];
    else if (key === "contentEncoding") {
      if (child === "base64" || child === "binary") out.format = child === "base64" ? "byte" : "binary";
    } else if (key === "patternProperties") {
      out.additionalProperties = asSwaggerWritesIt(Object.values(child as object)[0]);
    } else if (!(key in out)) out[key] = asSwaggerWritesIt(child);
  }
  return out;
}

/** @fastify/swagger turns a params or querystring object schema into OpenAPI parameters; this undoes it. */
function fromParameters(op: Operation, where: "path" | "query") {
  const params = (op.parameters ?? []).filter((p) => p.in === where);
  if (params.length === 0) return undefined;
  return {
    properties: Object.fromEntries(
      params.map((p) => [
        p.name,
        p.description ? { ...(p.schema as object), description: p.description } : p.schema,
      ]),
    ),
    required: params.filter((p) => p.required).map((p) => p.name),
  };
}

function asParameters(schema: z.ZodType | undefined) {
  if (!schema) return undefined;
  const json = jsonSchema(schema, "input") as { properties: Record<string, unknown>; required?: string[] };
  return { properties: json.properties, required: json.required ?? [] };
}

/** The success response's body schema: the envelope around `data` (envelope.ts), or `data` itself. */
function expectedResponse(e: Endpoint) {
  if (e.envelope === false) return e.data ? jsonSchema(e.data, "output") : undefined;
  return jsonSchema(
    z.object({ error: z.literal(false), reason: z.string(), data: e.data ?? z.unknown(), ...e.extra }),
    "output",
  );
}

const entries = Object.entries(ENDPOINTS) as [string, Endpoint][];

/**
 * packages/protocol's ENDPOINTS is what @hugo/client is typed from. This keeps it the server's own
 * contract: every `/api/` route in the OpenAPI document has one entry (a new route without a client
 * method fails here), and each entry's schemas, status and auth are the route's.
 */
describe("the endpoint table", () => {
  let server: RunningHugo;
  let doc: Required<OpenApiDoc>;
  beforeAll(async () => {
    server = await startHugo("sqlite");
    doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as Required<OpenApiDoc>;
  });
  afterAll(() => server?.stop());

  const operation = (e: Endpoint) => doc.paths[e.path]?.[e.method.toLowerCase()] as Operation | undefined;

  it("has exactly one entry for every /api/ route of the OpenAPI document, and none other", () => {
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/api/"))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    const table = entries.map(([, e]) => `${e.method} ${e.path}`);
    expect(new Set(table).size, "two entries name the same route").toBe(table.length);
    expect({
      "routes without an entry": routes.filter((r) => !table.includes(r)).sort(),
      "entries without a route": table.filter((r) => !routes.includes(r)).sort(),
    }).toEqual({ "routes without an entry": [], "entries without a route": [] });
  });

  it("names each endpoint area.verb and each path parameter in the params schema", () => {
    for (const [name, e] of entries) {
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      const names = [...e.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = e.params ? Object.keys((e.params as z.ZodObject).shape) : [];
      expect(declared, name).toEqual(names);
    }
  });

  it.each(entries)("%s has the route's schemas and success status", (_name, e) => {
    const op = operation(e);
    expect(op, `${e.method} ${e.path} is in the document`).toBeDefined();
    if (!op) return;
    expect(fromParameters(op, "path")).toEqual(asParameters(e.params));
    expect(fromParameters(op, "query")).toEqual(asParameters(e.query));
    expect(op.requestBody?.content?.["application/json"]?.schema).toEqual(
      e.body ? jsonSchema(e.body, "input") : undefined,
    );
    const successes = Object.keys(op.responses ?? {}).filter((s) => s.startsWith("2"));
    expect(successes).toEqual([String(e.status)]);
    expect(op.responses?.[String(e.status)]?.content?.["application/json"]?.schema).toEqual(
      expectedResponse(e),
    );
  });

  it("asks bearer endpoints for exactly their scope, session endpoints for a session, the others for nothing", async () => {
    const tokens = new Map<TokenScope, { only: string; allBut: string }>();
    const admin = { authorization: `Bearer ${server.seed.token.token}`, "content-type": "application/json" };
    const create = async (scopes: TokenScope[]) => {
      const res = await fetch(`${server.url}/api/tokens`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: "scope probe", scopes }),
      });
      return ((await res.json()) as { data: { token: string } }).data.token;
    };
    for (const scope of TOKEN_SCOPES) {
      tokens.set(scope, {
        only: await create([scope]),
        allBut: await create(TOKEN_SCOPES.filter((s) => s !== scope)),
      });
    }
    const call = async (e: Endpoint, token?: string) => {
      // Any value routes: authentication runs before the parameters are validated.
      const res = await fetch(`${server.url}${e.path.replace(/\{\w+\}/g, "x")}`, {
        method: e.method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return { status: res.status, reason: ((await res.json()) as { reason: string }).reason };
    };
    for (const [name, e] of entries) {
      if (e.auth === "session") {
        expect(await call(e), `${name} without a session`).toEqual({ status: 401, reason: "unauthorized" });
        continue;
      }
      if (e.auth !== "bearer") {
        expect((await call(e)).status, `${name} takes no token`).not.toBe(401);
        continue;
      }
      const probe = tokens.get(e.scope)!;
      expect(await call(e), `${name} without a token`).toEqual({ status: 401, reason: "unauthorized" });
      expect(await call(e, probe.allBut), `${name} without ${e.scope}`).toEqual({
        status: 403,
        reason: "insufficient_scope",
      });
      expect([401, 403], `${name} with only ${e.scope}`).not.toContain((await call(e, probe.only)).status);
    }
  });
});
