export { HugoClient, type HugoClientOptions, type RetryInfo } from "./client.ts";
export {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  errorFromResponse,
  HugoError,
  type HugoErrorCode,
  type HugoErrorInit,
  NotFoundError,
  PermissionError,
  parseRetryAfter,
  RateLimitError,
  ServerError,
  TimeoutError,
  UnprocessableError,
} from "./errors.ts";
export { ROUTES, type Route, type RouteName } from "./routes.ts";
export type { EndpointArgs, EndpointMethod, EndpointResult, HugoApi, RequestOptions } from "./types.ts";
