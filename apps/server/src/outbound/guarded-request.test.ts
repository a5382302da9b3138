import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertPublicUrl,
  checkUrlSyntax,
  guardedFetch,
  guardedRequest,
  isPublicAddress,
  OutboundError,
  type OutboundPolicy,
} from "./guarded-request.ts";

const NONE: OutboundPolicy = { allowHosts: [] };
const LOOPBACK: OutboundPolicy = { allowHosts: ["127.0.0.1"] };

/** The OutboundError code a call fails with (sync or async), or "ok". */
async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return "ok";
  } catch (err) {
    if (err instanceof OutboundError) return err.code;
    throw err;
  }
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("checkUrlSyntax", () => {
  it.each([
    "ftp://example.com/file",
    "file:///etc/passwd",
    "gopher://example.com/",
    "javascript:alert(1)",
    "http://user:pass@example.com/",
    "http://user@example.com/",
    "http://",
    "http://:80/",
    "not a url",
    "http://example.com:0/",
    "http://example.com:65536/",
    "http://example.com:-1/",
  ])("rejects %s as url_invalid", async (url) => {
    expect(await codeOf(() => checkUrlSyntax(url, NONE))).toBe("url_invalid");
  });

  it.each([
    // IPv4 ranges
    "http://0.0.0.0/",
    "http://0.1.2.3/",
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://127.0.0.1/",
    "http://127.255.0.1/",
    "http://169.254.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.0.0.8/",
    "http://192.0.2.1/",
    "http://192.168.1.1/",
    "http://198.18.0.1/",
    "http://198.19.255.255/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    // odd IPv4 spellings, normalized by URL parsing
    "http://2130706433/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0/",
    "http://169.254.43518/",
    "http://0xa9fea9fe/",
    // IPv6 ranges
    "http://[::]/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456:789a::1]/",
    "http://[fe80::1]/",
    "http://[febf:ffff::1]/",
    "http://[ff02::1]/",
    "http://[ff0e::101]/",
    "http://[2001:db8::1]/",
    "http://[2001:db8:ffff::1]/",
    // IPv6 forms embedding a non-public IPv4
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[::192.168.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
  ])("rejects %s as url_not_allowed", async (url) => {
    expect(await codeOf(() => checkUrlSyntax(url, NONE))).toBe("url_not_allowed");
  });

  it.each([
    "http://8.8.8.8/",
    "https://1.1.1.1/dns-query",
    "http://93.184.215.14:8080/x?y=1",
    "http://172.15.255.255/",
    "http://172.32.0.0/",
    "http://100.63.255.255/",
    "http://100.128.0.0/",
    "http://198.17.255.255/",
    "http://198.20.0.0/",
    "http://169.253.255.255/",
    "http://[2606:4700:4700::1111]/",
    "http://[2a00:1450:4001:80b::200e]/",
    "http://[::ffff:8.8.8.8]/",
    "http://[64:ff9b::8.8.8.8]/",
    "http://[2002:808:808::1]/",
    "https://example.com/hook",
    "http://EXAMPLE.com:8443/",
  ])("accepts %s", async (url) => {
    expect(await codeOf(() => checkUrlSyntax(url, NONE))).toBe("ok");
  });

  it("accepts a non-public IP literal listed in allowHosts, by its normalized form", () => {
    expect(checkUrlSyntax("http://127.0.0.1:8080/x", LOOPBACK).hostname).toBe("127.0.0.1");
    expect(checkUrlSyntax("http://2130706433/", LOOPBACK).hostname).toBe("127.0.0.1");
    expect(checkUrlSyntax("http://[::1]/", { allowHosts: ["::1"] }).hostname).toBe("[::1]");
    expect(checkUrlSyntax("http://[::1]/", { allowHosts: ["[::1]"] }).hostname).toBe("[::1]");
    // Other private addresses stay refused.
    expect(() => checkUrlSyntax("http://10.0.0.1/", LOOPBACK)).toThrow(OutboundError);
  });
});

describe("isPublicAddress", () => {
  it("judges resolver-style addresses, including zone ids and dotted IPv4-mapped forms", () => {
    expect(isPublicAddress("8.8.8.8")).toBe(true);
    expect(isPublicAddress("2001:4860:4860::8888")).toBe(true);
    expect(isPublicAddress("fe80::1%eth0")).toBe(false);
    expect(isPublicAddress("::ffff:127.0.0.1")).toBe(false);
    expect(isPublicAddress("::ffff:0:127.0.0.1")).toBe(false);
    expect(isPublicAddress("not-an-ip")).toBe(false);
  });
});

describe("assertPublicUrl", () => {
  it("refuses localhost by default: it resolves to loopback", async () => {
    await expect(assertPublicUrl("http://localhost:1234/", NONE)).rejects.toMatchObject({
      code: "url_not_allowed",
    });
    await expect(assertPublicUrl("http://LOCALHOST./", NONE)).rejects.toMatchObject({
      code: "url_not_allowed",
    });
  });

  it("allows localhost when it is in allowHosts", async () => {
    const url = await assertPublicUrl("http://localhost:1234/hook", { allowHosts: ["localhost"] });
    expect(url.hostname).toBe("localhost");
  });

  it("still applies the syntax and IP-literal checks", async () => {
    await expect(assertPublicUrl("ftp://localhost/", { allowHosts: ["localhost"] })).rejects.toMatchObject({
      code: "url_invalid",
    });
    await expect(assertPublicUrl("http://[::ffff:127.0.0.1]/", NONE)).rejects.toMatchObject({
      code: "url_not_allowed",
    });
  });

  it("reports a name that does not resolve as a network error", async () => {
    await expect(assertPublicUrl("http://does-not-exist.invalid/", NONE)).rejects.toMatchObject({
      code: "network",
    });
  });
});

describe("guardedRequest against real loopback servers", () => {
  let echo: { server: http.Server; port: number };
  let received: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[];

  beforeAll(async () => {
    received = [];
    echo = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        if (req.url === "/redirect") {
          res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" });
          res.end("moved");
          return;
        }
        res.writeHead(201, { "content-type": "application/json", "x-reply": "yes" });
        res.end(JSON.stringify({ ok: true, echoed: req.method }));
      });
    });
  });
  afterAll(() => close(echo.server));

  it("delivers method, headers and body, and returns status, headers and body", async () => {
    const res = await guardedRequest(LOOPBACK, `http://127.0.0.1:${echo.port}/hook?x=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hugo-signature": "abc" },
      body: JSON.stringify({ event: "message:send", note: "héllo" }),
      timeoutMs: 5000,
    });
    expect(res.status).toBe(201);
    expect(res.headers["x-reply"]).toBe("yes");
    expect(JSON.parse(res.body)).toEqual({ ok: true, echoed: "POST" });
    const got = received.at(-1);
    expect(got?.method).toBe("POST");
    expect(got?.url).toBe("/hook?x=1");
    expect(got?.headers["x-hugo-signature"]).toBe("abc");
    expect(got?.headers["content-type"]).toBe("application/json");
    expect(got?.headers["content-length"]).toBe(String(Buffer.byteLength(got?.body ?? "")));
    expect(JSON.parse(got?.body ?? "")).toEqual({ event: "message:send", note: "héllo" });
  });

  it("connects to an allowed host name through the guarded lookup", async () => {
    const res = await guardedRequest({ allowHosts: ["localhost"] }, `http://localhost:${echo.port}/named`, {
      method: "GET",
      timeoutMs: 5000,
    });
    expect(res.status).toBe(201);
    expect(received.at(-1)?.url).toBe("/named");
  });

  it("returns a 302 as is instead of following it", async () => {
    const before = received.length;
    const res = await guardedRequest(LOOPBACK, `http://127.0.0.1:${echo.port}/redirect`, {
      method: "GET",
      timeoutMs: 5000,
    });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe("http://127.0.0.1:1/elsewhere");
    expect(res.body).toBe("moved");
    expect(received.length).toBe(before + 1);
  });

  it("refuses a host name resolving to loopback at connect time (DNS rebinding), without a prior check", async () => {
    const before = received.length;
    await expect(
      guardedRequest(NONE, `http://localhost:${echo.port}/rebound`, {
        method: "POST",
        body: "x",
        timeoutMs: 5000,
      }),
    ).rejects.toMatchObject({ code: "url_not_allowed" });
    expect(received.length).toBe(before);
  });

  it("refuses non-public IP literals before connecting", async () => {
    const before = received.length;
    for (const url of [
      `http://127.0.0.1:${echo.port}/`,
      `http://2130706433:${echo.port}/`,
      `http://[::ffff:127.0.0.1]:${echo.port}/`,
    ]) {
      await expect(guardedRequest(NONE, url, { method: "GET", timeoutMs: 5000 })).rejects.toMatchObject({
        code: "url_not_allowed",
      });
    }
    await expect(
      guardedRequest(NONE, "file:///etc/passwd", { method: "GET", timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: "url_invalid" });
    expect(received.length).toBe(before);
  });

  it("times out on a server that never answers", async () => {
    const silent = await listen(() => {
      /* never respond */
    });
    try {
      await expect(
        guardedRequest(LOOPBACK, `http://127.0.0.1:${silent.port}/`, { method: "GET", timeoutMs: 200 }),
      ).rejects.toMatchObject({ code: "timeout" });
    } finally {
      await close(silent.server);
    }
  });

  it("times out on a server that stalls mid-body", async () => {
    const stall = await listen((_req, res) => {
      res.writeHead(200);
      res.write("partial");
    });
    try {
      await expect(
        guardedRequest(LOOPBACK, `http://127.0.0.1:${stall.port}/`, { method: "GET", timeoutMs: 200 }),
      ).rejects.toMatchObject({ code: "timeout" });
    } finally {
      await close(stall.server);
    }
  });

  it("aborts a streamed body larger than maxBytes", async () => {
    const stream = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(16 * 1024, 97);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {
          /* keep writing until backpressure */
        }
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("error", () => {});
      pump();
    });
    try {
      await expect(
        guardedRequest(LOOPBACK, `http://127.0.0.1:${stream.port}/`, {
          method: "GET",
          timeoutMs: 10_000,
          maxBytes: 64 * 1024,
        }),
      ).rejects.toMatchObject({ code: "too_large" });
    } finally {
      await close(stream.server);
    }
  });

  it("refuses a declared Content-Length over maxBytes, and accepts a body exactly at the limit", async () => {
    const fixed = await listen((req, res) => {
      const size = req.url === "/big" ? 2048 : 1024;
      res.writeHead(200, { "content-length": String(size) });
      res.end(Buffer.alloc(size, 98));
    });
    try {
      await expect(
        guardedRequest(LOOPBACK, `http://127.0.0.1:${fixed.port}/big`, {
          method: "GET",
          timeoutMs: 5000,
          maxBytes: 1024,
        }),
      ).rejects.toMatchObject({ code: "too_large" });
      const ok = await guardedRequest(LOOPBACK, `http://127.0.0.1:${fixed.port}/exact`, {
        method: "GET",
        timeoutMs: 5000,
        maxBytes: 1024,
      });
      expect(ok.body.length).toBe(1024);
    } finally {
      await close(fixed.server);
    }
  });

  it("reports a closed port as a network error", async () => {
    const gone = await listen(() => {});
    await close(gone.server);
    const err = await guardedRequest(LOOPBACK, `http://127.0.0.1:${gone.port}/`, {
      method: "GET",
      timeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect((err as OutboundError).code).toBe("network");
    expect((err as OutboundError).message).toMatch(/ECONNREFUSED/);
  });

  it("reports invalid header values as a network error rather than throwing raw", async () => {
    await expect(
      guardedRequest(LOOPBACK, `http://127.0.0.1:${echo.port}/`, {
        method: "GET",
        headers: { "x-bad": "a\r\nb" },
        timeoutMs: 5000,
      }),
    ).rejects.toMatchObject({ code: "network" });
  });
});

describe("guardedFetch (a streaming fetch for the AI SDK's providers)", () => {
  let sse: { server: http.Server; port: number };
  /** Lets the server send its second event once the client has read the first. */
  let release: () => void = () => {};
  let bodies: string[];

  beforeAll(async () => {
    bodies = [];
    sse = await listen((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        bodies.push(body);
        if (req.url === "/big") {
          res.writeHead(200, { "content-type": "text/plain" });
          res.end("x".repeat(5000));
          return;
        }
        if (req.url === "/empty") {
          res.writeHead(204, { "set-cookie": ["a=1", "b=2"] });
          res.end();
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: one\n\n");
        release = () => res.end("data: two\n\n");
      });
    });
  });
  afterAll(() => close(sse.server));

  it("streams the body as the server sends it, with the request's method, headers and body", async () => {
    const fetch = guardedFetch(LOOPBACK, { maxBytes: 1024 });
    const res = await fetch(`http://127.0.0.1:${sse.port}/stream`, {
      method: "POST",
      headers: { authorization: "Bearer k", "content-type": "application/json" },
      body: JSON.stringify({ stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const first = await reader.read();
    // The first event arrived while the server still holds the response open.
    expect(new TextDecoder().decode(first.value)).toBe("data: one\n\n");
    release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe("data: two\n\n");
    expect(bodies.at(-1)).toBe('{"stream":true}');
  });

  it("refuses loopback unless allowed, before sending anything", async () => {
    const before = bodies.length;
    const fetch = guardedFetch(NONE, { maxBytes: 1024 });
    await expect(fetch(`http://127.0.0.1:${sse.port}/stream`)).rejects.toMatchObject({
      code: "url_not_allowed",
    });
    await expect(
      guardedFetch({ allowHosts: [] }, { maxBytes: 1024 })(`http://localhost:${sse.port}/x`),
    ).rejects.toMatchObject({ code: "url_not_allowed" });
    expect(bodies.length).toBe(before);
  });

  it("aborts through the signal, and stops a body past maxBytes", async () => {
    const fetch = guardedFetch(LOOPBACK, { maxBytes: 1024 });
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${sse.port}/stream`, { signal: controller.signal });
    controller.abort();
    await expect(res.text()).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${sse.port}/big`).then((r) => r.text())).rejects.toThrow(
      /exceeds 1024 bytes/,
    );
    await expect(fetch(`http://127.0.0.1:${sse.port}/x`, { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it("returns a body-less status without a body, with repeated headers", async () => {
    const res = await guardedFetch(LOOPBACK, { maxBytes: 1024 })(`http://127.0.0.1:${sse.port}/empty`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });
});
