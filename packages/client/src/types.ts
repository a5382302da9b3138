// Types only: the client's calls are typed from packages/protocol's ENDPOINTS (its zod schemas'
// input and output types) without importing a schema at run time.
import type { EndpointName, Endpoints } from "@hugo/protocol";
import type { input, output, ZodType } from "zod";
import type { Routes } from "./routes.ts";

/** Per-call options, the last argument of every method. */
export interface RequestOptions {
  /** Aborts the call (and any retry wait); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The `Idempotency-Key` of a POST: the server answers a repeat with the first answer for 24 hours.
   * By default the client makes one per call (reused by its own retries); `false` sends none, and
   * such a POST is then never retried.
   */
  idempotencyKey?: string | false;
  /** Per attempt; default the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Retries for this call; default the client's `retries`. */
  retries?: number;
  /** The visitor credential (`X-Hugo-Visitor`) for the widget API; default the client's `visitor`. */
  visitor?: string;
  /** An upload's Content-Type when the file is not a Blob with a type (default application/octet-stream). */
  contentType?: string;
}

/** A file to upload: its raw bytes. */
export type UploadBody = Blob | ArrayBuffer | Uint8Array;

type PathNames<P> = P extends `${string}{${infer K}}${infer Rest}` ? [K, ...PathNames<Rest>] : [];
type Values<Names extends unknown[], O> = { [I in keyof Names]: O[Names[I] & keyof O] };
type PathArgs<D> = D extends { path: infer P; params: infer S extends ZodType }
  ? Values<PathNames<P>, output<S>>
  : [];

/**
 * A query string carries text: `z.coerce.number()` fields take numbers (their input type is
 * `unknown`), and `"true" | "false"` flags take booleans too.
 */
type QueryInput<I, O> = {
  [K in keyof I]: unknown extends I[K]
    ? K extends keyof O
      ? O[K]
      : I[K]
    : I[K] | (K extends keyof O ? Extract<O[K], number | boolean> : never);
};

type InputOf<D> = D extends { body: infer S extends ZodType }
  ? input<S>
  : D extends { query: infer S extends ZodType }
    ? QueryInput<input<S>, output<S>>
    : undefined;
/** The input is optional when every field of it is. */
type InputArgs<D> =
  InputOf<D> extends undefined
    ? []
    : Partial<InputOf<D>> extends InputOf<D>
      ? [input?: InputOf<D>]
      : [input: InputOf<D>];

/** The arguments of `client.<area>.<verb>`: path parameters in path order, the body or query, options. */
export type EndpointArgs<N extends EndpointName> = [
  ...PathArgs<Endpoints[N]>,
  ...(Endpoints[N] extends { upload: true } ? [file: UploadBody] : []),
  ...InputArgs<Endpoints[N]>,
  options?: RequestOptions,
];

type DataOf<D> = D extends { data: infer S extends ZodType } ? output<S> : unknown;
/** What a call resolves to: the envelope's `data` (with `extra`, `{data, …extra}`; without an envelope, the body). */
export type EndpointResult<N extends EndpointName> = Endpoints[N] extends { envelope: false }
  ? DataOf<Endpoints[N]>
  : Endpoints[N] extends { extra: infer X }
    ? { data: DataOf<Endpoints[N]> } & { [K in keyof X]: X[K] extends ZodType ? output<X[K]> : never }
    : DataOf<Endpoints[N]>;

export type EndpointMethod<N extends EndpointName> = (...args: EndpointArgs<N>) => Promise<EndpointResult<N>>;

/** `client.<area>.<verb>` for every endpoint; documentation comes from the route table. */
export type HugoApi = {
  readonly [A in keyof Routes]: {
    readonly [V in keyof Routes[A]]: EndpointMethod<`${A & string}.${V & string}` & EndpointName>;
  };
};
