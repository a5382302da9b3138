import net from "node:net";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { type LatencySummary, Samples, summarize } from "./stats.ts";

export interface Target {
  host: string;
  port: number;
}

export interface PostSpec {
  /** Request paths; connection i of a closed loop uses paths[i % paths.length]. */
  paths: string[];
  headers: Record<string, string>;
  body: string;
}

export interface ClosedLoopResult {
  /** 2xx responses per second over the whole run. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  /** autocannon's histogram: 1 ms resolution. */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
}

/**
 * Closed loop with autocannon: `connections` keep-alive connections each send the next request as
 * soon as the previous answer arrives, so the server runs flat out; req/s is its capacity.
 */
export async function closedLoop(
  target: Target,
  spec: PostSpec,
  options: { connections: number; durationS: number },
): Promise<ClosedLoopResult> {
  const urls = spec.paths.map((p) => `http://${target.host}:${target.port}${p}`);
  const result = await autocannon({
    // autocannon accepts a list of URLs (connection i targets urls[i % n]); its typings say string.
    url: (urls.length === 1 ? urls[0] : urls) as string,
    method: "POST",
    headers: { "content-type": "application/json", ...spec.headers },
    body: spec.body,
    connections: options.connections,
    duration: options.durationS,
    pipelining: 1,
    timeout: 10,
  });
  const ok = result["2xx"];
  return {
    rps: ok / result.duration,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
  };
}

/** Where the HTTP response of one buffered request ends; undefined while incomplete. */
export function parseResponse(buf: Buffer): { status: number; end: number } | undefined {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const head = buf.toString("latin1", 0, headEnd).toLowerCase();
  const status = Number(head.slice(9, 12));
  let pos = headEnd + 4;
  const cl = /\r\ncontent-length:[ \t]*(\d+)/.exec(head);
  if (cl) {
    const end = pos + Number(cl[1]);
    return buf.length >= end ? { status, end } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", pos);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(buf.toString("latin1", pos, lineEnd), 16);
      pos = lineEnd + 2;
      if (size === 0) {
        const end = buf.indexOf("\r\n\r\n", pos - 2);
        return end < 0 ? undefined : { status, end: end + 4 };
      }
      pos += size + 2;
      if (buf.length < pos) return undefined;
    }
  }
  return { status, end: pos };
}

type Done = (error: Error | null, status: number) => void;

const EMPTY = Buffer.alloc(0);

/**
 * One keep-alive HTTP/1.1 connection with one request in flight: a pre-built request is written
 * as-is and the answer is parsed just enough to find its end. Far cheaper per request than
 * node:http's client, so the generator does not become the bottleneck at a few thousand req/s.
 */
export class RawConnection {
  readonly #target: Target;
  #socket: net.Socket | undefined;
  #buf: Buffer = EMPTY;
  #done: Done | undefined;

  constructor(target: Target) {
    this.#target = target;
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.#open();
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
  }

  #open(): net.Socket {
    const socket = net.connect(this.#target.port, this.#target.host);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      const parsed = parseResponse(this.#buf);
      if (!parsed) return;
      this.#buf = parsed.end >= this.#buf.length ? EMPTY : this.#buf.subarray(parsed.end);
      const done = this.#done;
      this.#done = undefined;
      done?.(null, parsed.status);
    });
    const fail = (error?: Error) => {
      if (this.#socket === socket) this.#socket = undefined;
      this.#buf = EMPTY;
      const done = this.#done;
      this.#done = undefined;
      done?.(error ?? new Error("connection closed"), 0);
    };
    socket.on("error", fail);
    socket.on("close", () => fail());
    this.#socket = socket;
    return socket;
  }

  send(request: Buffer, done: Done): void {
    this.#done = done;
    (this.#socket ?? this.#open()).write(request);
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}

/** Builds `POST path` with a JSON body, ready to write to a socket. */
export function buildPost(
  target: Target,
  path: string,
  headers: Record<string, string>,
  body: string,
): Buffer {
  const bodyBuf = Buffer.from(body);
  let head = `POST ${path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nContent-Type: application/json\r\nContent-Length: ${bodyBuf.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), bodyBuf]);
}

export interface OpenLoopResult {
  rate: number;
  /** Completed 2xx per second between the first scheduled send and the last answer. */
  achievedRps: number;
  scheduled: number;
  /** Never sent: the run was stopped when the server fell `maxLagMs` behind the schedule. */
  dropped: number;
  overloaded: boolean;
  ok: number;
  non2xx: number;
  errors: number;
  /** Latency from the scheduled send time (includes waiting for a free connection). */
  latency: LatencySummary;
  /** Latency from the moment the request was written. */
  service: LatencySummary;
}

/**
 * Open loop at a fixed rate: request i is due at start + i/rate whatever the server is doing, and is
 * written on the first idle connection. Latency counts from the due time, so a server that falls
 * behind shows it in its percentiles (no coordinated omission). `build(i)` runs at send time.
 */
export async function openLoop(
  target: Target,
  options: {
    connections: number;
    rate: number;
    durationS: number;
    build: (i: number) => Buffer;
    /** Extra time allowed for the last answers before counting them as errors. */
    drainMs?: number;
    /** Stop scheduling once a due request has waited this long for a connection (server saturated). */
    maxLagMs?: number;
  },
): Promise<OpenLoopResult> {
  const conns = Array.from({ length: options.connections }, () => new RawConnection(target));
  await Promise.all(conns.map((c) => c.connect()));
  const scheduled = Math.max(1, Math.round(options.rate * options.durationS));
  let total = scheduled;
  let dispatched = 0;
  let overloaded = false;
  const maxLagMs = options.maxLagMs ?? 2_000;
  const interval = 1000 / options.rate;
  const latency = new Samples();
  const service = new Samples();
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let next = 0;
  let finished = 0;
  let lastDone = 0;
  const idle = [...conns];
  const queue: number[] = [];
  let qHead = 0;
  const start = performance.now() + 2;

  return new Promise<OpenLoopResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      clearTimeout(guard);
      for (const c of conns) c.close();
      errors += total - finished;
      resolve({
        rate: options.rate,
        achievedRps: ok / (Math.max(lastDone - start, 1) / 1000),
        scheduled,
        dropped: scheduled - total,
        overloaded,
        ok,
        non2xx,
        errors,
        latency: summarize(latency.values()),
        service: summarize(service.values()),
      });
    };
    const guard = setTimeout(finish, options.durationS * 1000 + (options.drainMs ?? 15_000));

    const dispatch = () => {
      while (qHead < queue.length && idle.length > 0) {
        if (performance.now() - (start + queue[qHead]! * interval) > maxLagMs) {
          // Saturated: what is queued would only measure the queue. Finish what is in flight.
          overloaded = true;
          total = dispatched;
          next = total;
          queue.length = 0;
          qHead = 0;
          if (finished === total) finish();
          return;
        }
        const i = queue[qHead++]!;
        const conn = idle.pop()!;
        dispatched++;
        const due = start + i * interval;
        const request = options.build(i);
        const sentAt = performance.now();
        conn.send(request, (error, status) => {
          const now = performance.now();
          finished++;
          lastDone = now;
          if (error) errors++;
          else if (status >= 200 && status < 300) {
            ok++;
            latency.push(now - due);
            service.push(now - sentAt);
          } else non2xx++;
          if (ended) return;
          idle.push(conn);
          if (finished === total) finish();
          else dispatch();
        });
      }
      if (qHead > 4096 && qHead === queue.length) {
        queue.length = 0;
        qHead = 0;
      }
    };

    const pump = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) queue.push(next++);
      dispatch();
      if (next < total) timer = setTimeout(pump, Math.max(0, start + next * interval - performance.now()));
    };
    timer = setTimeout(pump, 2);
  });
}
